#!/usr/bin/env bash
# tests/hardening.sh BINARY — the release hardening configure turns on (see configure.ac),
# read back from the ELF file with readelf: PIE (type DYN with FLAGS_1 PIE), full RELRO
# (a GNU_RELRO segment and BIND_NOW), the stack protector (__stack_chk_fail) and
# _FORTIFY_SOURCE (__*_chk functions). TAP output; exit 1 when one is missing.
# Run by .ci/run on the build tree's binary and on the one the .deb installs.
bin=${1:-./tlstriage}
n=0
bad=0
check() {
    n=$((n + 1))
    if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; bad=$((bad + 1)); fi
}
command -v readelf >/dev/null || { echo "1..0 # SKIP readelf not found"; exit 1; }
[ -f "$bin" ] || { echo "Bail out! $bin: no such file"; exit 1; }
echo "1..6"
hdr=$(readelf -hW "$bin")
dyn=$(readelf -dW "$bin")
seg=$(readelf -lW "$bin")
syms=$(readelf -sW --dyn-syms "$bin")
grep -qE 'Type:[[:space:]]+DYN' <<<"$hdr"
check $? "$bin is position independent (ELF type DYN)"
grep -qE 'FLAGS_1.*PIE' <<<"$dyn"
check $? "and marked PIE (FLAGS_1 PIE)"
grep -q 'GNU_RELRO' <<<"$seg"
check $? "has a GNU_RELRO segment"
grep -qE 'BIND_NOW|FLAGS_1.*NOW' <<<"$dyn"
check $? "binds now (full RELRO: the GOT is read-only after start)"
grep -q '__stack_chk_fail' <<<"$syms"
check $? "calls __stack_chk_fail (-fstack-protector-strong)"
chk=$(grep -oE '__[a-z0-9_]+_chk\b' <<<"$syms" | grep -v '__stack_chk' | sort -u)
[ -n "$chk" ]
check $? "calls __*_chk functions (_FORTIFY_SOURCE): $(head -4 <<<"$chk" | tr '\n' ' ')"
[ $bad = 0 ]
