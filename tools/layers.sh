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

# One awk pass over every file (a process per include took half a minute of `make test`). Its
# inputs, in order: the plan (one line per layer), the files that exist (for private includes),
# the owners (HEADER_ONLY first, then src/*/X.c, then src/*/X.h: the first owner of a stem wins),
# the folders of src/, then the sources themselves.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '%s\n' "$LAYERS" | awk 'NF' >"$tmp/plan"
ls -d src/*/* include/occam/* >"$tmp/files"
{
    for pair in $HEADER_ONLY; do echo "${pair%%:*}" "${pair#*:}"; done
    { ls -d src/*/*.c; ls -d src/*/*.h; } 2>/dev/null |
        awk -F/ '{ s = $3; sub(/\.[ch]$/, "", s); print s, $2 }'
} >"$tmp/owners"
ls -d src/*/ | sed 's,^src/,,; s,/$,,' >"$tmp/dirs"

awk -v graph="$graph" -v runtime_only="$RUNTIME_ONLY" -v sleef_file="$SLEEF_FILE" \
    -v plan="$tmp/plan" -v files="$tmp/files" -v owners="$tmp/owners" \
    -v dirs="$tmp/dirs" '
function say(msg) { print "layers: " msg > "/dev/stderr"; fail = 1 }
function dirname(p) { sub(/\/[^\/]*$/, "", p); return p }
function stem(p, ext) { sub(/^.*\//, "", p); sub(ext "$", "", p); return p }
BEGIN {
    while ((getline line < plan) > 0) {
        layer++; order = order " " line
        k = split(line, fs, /[ \t]+/)
        for (i = 1; i <= k; i++) if (fs[i] != "") rank[fs[i]] = layer
    }
    while ((getline line < files) > 0) exists[line] = 1
    while ((getline line < owners) > 0) {
        split(line, p, " ")
        if (!(p[1] in owner)) owner[p[1]] = p[2]
    }
    while ((getline line < dirs) > 0)
        if (!(line in rank)) say("src/" line "/ is not in the floor plan (tools/layers.sh LAYERS)")
    nsys = split(runtime_only, sys, " ")
}
# The folder of file f, counted once; skip when it has none or the plan does not know it. Run at
# the first line of f, and at the end for the empty files, which have none.
function enter(f) {
    visited[f] = 1
    skip = 0
    if (f ~ /^include\/occam\//) {
        s = stem(f, ".h")
        if (!(s in owner)) { say(f ": no folder owns it (no src/*/" s ".c)"); skip = 1; return }
        folder = owner[s]
    } else {
        folder = f; sub(/^src\//, "", folder); sub(/\/.*/, "", folder)
    }
    if (!(folder in rank)) { skip = 1; return }
    nfiles++
    split("", seen)
}
FNR == 1 { enter(FILENAME) }
skip { next }
/^[ \t]*#[ \t]*include[ \t]*</ {
    target = $0; sub(/^[^<]*</, "", target); sub(/>.*$/, "", target)
    if (folder != "runtime")
        for (i = 1; i <= nsys; i++)
            if (target == sys[i] && !(target in seen)) {
                seen[target] = 1
                say(FILENAME ":" FNR ": includes <" target ">, which only runtime/ may use")
            }
    if (target == "sleef.h" && FILENAME != sleef_file && !(target in seen)) {
        seen[target] = 1
        say(FILENAME ":" FNR ": includes <sleef.h>, which only " sleef_file " may use")
    }
    next
}
/^[ \t]*#[ \t]*include[ \t]+"/ {
    split($0, q, "\""); target = q[2]
    nincs++
    if (target ~ /^occam\/.*\.h$/) {
        s = stem(target, ".h")
        if (!(s in owner)) { say(FILENAME ":" FNR ": includes " target ", which no folder owns"); next }
        to = owner[s]
    } else if (target ~ /\//) {
        say(FILENAME ":" FNR ": includes \"" target "\": use occam/NAME.h or a header in the same folder")
        next
    } else {
        if (!((dirname(FILENAME) "/" target) in exists))
            say(FILENAME ":" FNR ": includes \"" target "\", which is not in " dirname(FILENAME) "/")
        next
    }
    if (to == folder) next
    edge[folder, to] = 1
    if (rank[to] > rank[folder])
        say(FILENAME ":" FNR ": includes " target " from " to "/, a higher layer than " folder "/ (points up)")
    else if (rank[to] == rank[folder])
        say(FILENAME ":" FNR ": includes " target " from " to "/, beside " folder "/ in the same layer")
}
END {
    for (i = 1; i < ARGC; i++) if (!(ARGV[i] in visited)) enter(ARGV[i])
    if (graph) {
        n = split(order, fs, /[ \t]+/)
        for (i = 1; i <= n; i++) {
            if (fs[i] == "") continue
            out = ""
            m = split(order, ts, /[ \t]+/)
            # targets in name order, as sort -u gave them
            cnt = 0
            for (j = 1; j <= m; j++) if (ts[j] != "" && (fs[i], ts[j]) in edge) names[++cnt] = ts[j]
            for (a = 2; a <= cnt; a++) for (b = a; b > 1 && names[b - 1] > names[b]; b--) {
                t = names[b]; names[b] = names[b - 1]; names[b - 1] = t
            }
            for (j = 1; j <= cnt; j++) out = out (j > 1 ? ", " : "") names[j]
            printf "%-8s -> %s\n", fs[i], out
        }
    }
    if (fail) { print "layers: FAILED (see above); the floor plan is in tools/layers.sh" > "/dev/stderr"; exit 1 }
    printf "layers: %d files, %d includes, every one within its folder or pointing down\n", nfiles, nincs
}' src/*/*.c src/*/*.h include/occam/*.h
