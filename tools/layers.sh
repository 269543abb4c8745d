#!/bin/sh
# The floor plan, enforced: every `#include "occam/X.h"` (and every private `#include "x.h"`) in
# src/ and include/occam/ must point to the including file's own folder or to a lower layer.
# `make test` runs it; it fails on an include that points up or sideways, on a public header no
# folder owns, and on a folder the plan does not know.
#
#   tools/layers.sh           check; print a one-line summary
#   tools/layers.sh --graph   also print each folder with the folders it includes
#
# The layers, lowest first. Folders on one line share a layer and may not include each other.
LAYERS='
base
runtime
prob data
nn
prune mdl
run
cli
'
# OpenMP, BLIS, hwloc and MPI are reached only through runtime/ (team, gemm, topo, comm).
RUNTIME_ONLY='omp.h blis.h hwloc.h mpi.h'
# SLEEF is reached only through nn/vmath.c, which fixes its ISA variant.
SLEEF_FILE='src/nn/vmath.c'
# A public header include/occam/X.h belongs to the folder holding src/*/X.c (or X.h). Header-only
# public headers name their folder here.
HEADER_ONLY='floatkey:base version:base'

set -eu
cd "$(dirname "$0")/.."
graph=0
[ "${1:-}" = "--graph" ] && graph=1

rank_of() { # folder -> layer index, or empty
    printf '%s\n' "$LAYERS" | awk -v f="$1" 'NF { n++; for (i = 1; i <= NF; i++) if ($i == f) print n }'
}

owner_of() { # header stem -> owning folder, or empty
    for pair in $HEADER_ONLY; do
        [ "${pair%%:*}" = "$1" ] && { echo "${pair#*:}"; return; }
    done
    for f in src/*/"$1".c src/*/"$1".h; do
        [ -e "$f" ] && { f=${f#src/}; echo "${f%%/*}"; return; }
    done
}

fail=0
say() { echo "layers: $*" >&2; fail=1; }

for d in src/*/; do
    d=${d#src/}; d=${d%/}
    [ -n "$(rank_of "$d")" ] || say "src/$d/ is not in the floor plan (tools/layers.sh LAYERS)"
done

edges=$(mktemp)
trap 'rm -f "$edges"' EXIT
files=0 incs=0
for file in src/*/*.c src/*/*.h include/occam/*.h; do
    case $file in
    include/occam/*)
        stem=$(basename "$file" .h)
        folder=$(owner_of "$stem")
        [ -n "$folder" ] || { say "$file: no folder owns it (no src/*/$stem.c)"; continue; } ;;
    *) folder=${file#src/}; folder=${folder%%/*} ;;
    esac
    rank=$(rank_of "$folder")
    [ -n "$rank" ] || continue
    files=$((files + 1))
    if [ "$folder" != runtime ]; then
        for sys in $RUNTIME_ONLY; do
            line=$(grep -n "^[[:space:]]*#[[:space:]]*include[[:space:]]*<$sys>" "$file" | head -n 1 | cut -d: -f1)
            [ -z "$line" ] || say "$file:$line: includes <$sys>, which only runtime/ may use"
        done
    fi
    if [ "$file" != "$SLEEF_FILE" ]; then
        line=$(grep -n "^[[:space:]]*#[[:space:]]*include[[:space:]]*<sleef.h>" "$file" | head -n 1 | cut -d: -f1)
        [ -z "$line" ] || say "$file:$line: includes <sleef.h>, which only $SLEEF_FILE may use"
    fi
    # line number and target of every quoted include
    for inc in $(awk '/^[ \t]*#[ \t]*include[ \t]+"/ { split($0, q, "\""); print FNR ":" q[2] }' "$file"); do
        line=${inc%%:*} target=${inc#*:}
        incs=$((incs + 1))
        case $target in
        occam/*.h)
            stem=$(basename "$target" .h)
            to=$(owner_of "$stem")
            if [ -z "$to" ]; then
                say "$file:$line: includes $target, which no folder owns"
                continue
            fi ;;
        */*) say "$file:$line: includes \"$target\": use occam/NAME.h or a header in the same folder"
            continue ;;
        *)
            [ -e "$(dirname "$file")/$target" ] ||
                say "$file:$line: includes \"$target\", which is not in $(dirname "$file")/"
            continue ;;
        esac
        [ "$to" = "$folder" ] && continue
        echo "$folder $to" >>"$edges"
        to_rank=$(rank_of "$to")
        if [ "$to_rank" -gt "$rank" ]; then
            say "$file:$line: includes $target from $to/, a higher layer than $folder/ (points up)"
        elif [ "$to_rank" -eq "$rank" ]; then
            say "$file:$line: includes $target from $to/, beside $folder/ in the same layer"
        fi
    done
done

if [ "$graph" = 1 ]; then
    printf '%s\n' "$LAYERS" | awk 'NF { for (i = 1; i <= NF; i++) print $i }' | while read -r f; do
        printf '%-8s -> %s\n' "$f" "$(awk -v f="$f" '$1 == f { print $2 }' "$edges" | sort -u |
            tr '\n' ' ' | sed 's/ $//; s/ /, /g')"
    done
fi
if [ "$fail" = 0 ]; then
    echo "layers: $files files, $incs includes, every one within its folder or pointing down"
else
    echo "layers: FAILED (see above); the floor plan is in tools/layers.sh" >&2
    exit 1
fi
