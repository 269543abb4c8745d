#!/usr/bin/env bash
# Issue 12's reproduction commands (bad outputs, lying files, bounded readers, messages), each
# printed with its exit code and the first lines of its message, as Markdown. Needs root for
# mknod and the tmpfs mount; everything it makes is under a temporary folder.
#
#   perf/hardening_repro.sh [BIN] > repro.md
set -u
cd "$(dirname "$0")/.."; B=${1:-build/occam}; R=$(mktemp -d /tmp/occam-repro.XXXX)
show() { # label, command
  echo "### $1"; echo '```'; echo "\$ $2"
  ( eval "$2" ) > $R/o.txt 2>&1; rc=$?
  grep -v "^epoch\|^#\|^\[\|^[a-z_]* = \|^train \|^test \|^mdl \|^time \|training and\|^checkpoint /\|^wrote\|^two-part\|^dense" $R/o.txt | head -3
  echo "exit $rc"; echo '```'; }
$B train configs/blobs.ini --set train.epochs=1 --save $R/m.st >/dev/null 2>&1
$B compress configs/blobs.ini --checkpoint $R/m.st --out $R/m.occ >/dev/null 2>&1
$B train configs/blobs.ini --set train.epochs=5 --report $R/r.json >/dev/null 2>&1
show "1. device target" "mknod $R/mynull c 1 3; $B train configs/blobs.ini --set train.epochs=1 --save $R/mynull >/dev/null && stat -c %F $R/mynull"
show "1. symlink target" "touch $R/target; ln -s target $R/link; $B train configs/blobs.ini --set train.epochs=1 --save $R/link >/dev/null && stat -c %F $R/link && stat -c '%F %s bytes' $R/target"
show "1. folder target" "mkdir $R/adir; $B train configs/blobs.ini --save $R/adir"
show "2. bad --report before training" "$B train configs/default.ini --set train.epochs=2 --report /nonexistent/r.json --save $R/m2.safetensors; ls $R/m2.safetensors"
show "3. .occ header bit flip" "cp $R/m.occ $R/bad.occ; printf '\\x05' | dd of=$R/bad.occ bs=1 seek=20 count=1 conv=notrunc status=none; $B eval configs/blobs.ini --checkpoint $R/bad.occ"
show "3. predict on it" "$B predict configs/blobs.ini --checkpoint $R/bad.occ --input /dev/null"
show "4. checksum key name with one bit flipped" "python3 -c \"d=bytearray(open('$R/m.st','rb').read());i=d.find(b'occam.checksum');d[i+3]^=1;open('$R/nock.st','wb').write(d)\"; $B eval configs/blobs.ini --checkpoint $R/nock.st"
show "5. out of memory in set-up" "(ulimit -v 300000; $B train configs/wide.ini --set train.epochs=1)"
show "6. file-size limit" "(ulimit -f 10; $B train configs/blobs.ini --set train.epochs=3 --set train.checkpoint_every=1 --set train.checkpoint_dir=$R/ulf); echo temporary files: \$(find $R -name '*.tmp.*' | wc -l)"
show "7. two runs on one folder" "$B train configs/blobs.ini --set train.epochs=100000 --set train.checkpoint_every=50 --set train.checkpoint_dir=$R/shared >/dev/null 2>&1 & sleep 1; $B train configs/blobs.ini --set train.epochs=3 --set train.checkpoint_every=1 --set train.checkpoint_dir=$R/shared; kill -INT %1; wait %1; echo first run exit \$?"
show "8. gnuplot injection" "$B plot $R/r.json --out \$'$R/x\\nsystem \"touch $R/pwned\"\\n'; ls $R/pwned"
show "9. CSV /dev/zero" "(ulimit -v 2000000; $B train configs/default.ini --set data.source=csv --set data.train=/dev/zero --set data.test=/dev/zero)"
show "9. plot /dev/zero" "(ulimit -v 2000000; $B plot /dev/zero --out $R/pz)"
show "10. NaN weight (valid checksum): eval, predict, mdl" "python3 -c \"
import struct,json,zlib
d=bytearray(open('$R/m.st','rb').read()); n=struct.unpack('<Q',d[:8])[0]; h=json.loads(d[8:8+n]); off=h['layers.0.weight']['data_offsets'][0]
d[8+n+off+17*4:8+n+off+18*4]=struct.pack('<f',float('nan'))
i=d.find(b'\\\"occam.checksum\\\":\\\"')+18; d[i:i+8]=b'00000000'
c=zlib.crc32(bytes(d)); d[i:i+8]=b'%08x'%c; open('$R/nan.st','wb').write(d)\"; for c in eval mdl 'predict --input /dev/null'; do $B \$c configs/blobs.ini --checkpoint $R/nan.st 2>&1 | tail -1; echo \"\$c: exit \${PIPESTATUS[0]}\"; done"
show "11. narrower checkpoint under a wider config" "$B train configs/blobs.ini --set train.epochs=1 --set model.layers=20,30,3 --save $R/narrow.st >/dev/null 2>&1; for c in eval mdl 'compress --out $R/n.occ'; do $B \$c configs/blobs.ini --checkpoint $R/narrow.st 2>&1 | tail -1; echo \"\$c: exit \${PIPESTATUS[0]}\"; done"
show "12. resume from a missing file" "$B train configs/blobs.ini --resume $R/missing.safetensors"
show "12. CSV through a FIFO" "mkfifo $R/f.csv; python3 -c \"import random;print('\\n'.join(','.join(str(random.random()) for _ in range(20))+','+str(random.randint(0,2)) for _ in range(300)))\" > $R/f.csv & $B train configs/blobs.ini --set data.source=csv --set data.train=$R/f.csv --set data.test= --set train.epochs=1 | grep -m1 '^train ' | sed 's/^/result: /'"
show "12. 56-byte IDX claiming 2^31 records" "python3 -c \"import struct;open('$R/big.idx','wb').write(struct.pack('>IIII',0x803,2**31,4,5)+bytes(40))\"; $B predict configs/blobs.ini --checkpoint $R/m.st --input $R/big.idx"
show "12. truncated .occ" "head -c 500 $R/m.occ > $R/t.occ; $B eval configs/blobs.ini --checkpoint $R/t.occ"
show "12. long path keeps its reason" "p=$R; for i in \$(seq 19); do p=\$p/\$(printf 'b%.0s' {1..200}); done; $B train \$p/missing.ini 2>&1 | tail -c 90"
show "12. binary bytes in a config" "printf '[data]\\nsource = \\x1b[31mred\\x01\\x02\\n' > $R/bin.ini; $B train $R/bin.ini"
show "12. BLIS_ARCH_TYPE=99" "BLIS_ARCH_TYPE=99 $B train configs/blobs.ini"
show "12. full disk: predict and plot leave nothing" "mkdir $R/small; mount -t tmpfs -o size=12k tmpfs $R/small; python3 -c \"
import random
open('$R/big.csv','w').write('\\n'.join(','.join('%.4f'%random.gauss(0,1) for _ in range(20)) for _ in range(5000))+'\\n')\"; $B predict configs/blobs.ini --checkpoint $R/m.st --input $R/big.csv --output $R/small/p.csv; $B plot $R/r.json --out $R/small/plots 2>&1 | grep -v Warning; find $R/small -type f -printf '%p %s bytes\\n'; umount $R/small"
show "quiet runs" "$B train configs/blobs.ini --set train.epochs=1 | head -12 | wc -l; $B train configs/blobs.ini --print-config | wc -l"
rm -rf $R
