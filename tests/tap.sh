# tests/tap.sh — sourced by shell tests: TAP output, so every assertion is one counted case.
#   . "$TT_SRCDIR/tests/tap.sh"
#   ok "scan finds the self-signed failure" test "$n" -eq 1
#   is "$actual" "$expected" "the nginx message matches"
#   done_testing
set -u
TAP_N=0
TAP_FAILED=0

ok() {
    local desc=$1; shift
    TAP_N=$((TAP_N + 1))
    if "$@"; then
        echo "ok $TAP_N - $desc"
    else
        echo "not ok $TAP_N - $desc"
        TAP_FAILED=$((TAP_FAILED + 1))
    fi
}

is() {
    local got=$1 want=$2 desc=$3
    TAP_N=$((TAP_N + 1))
    if [ "$got" = "$want" ]; then
        echo "ok $TAP_N - $desc"
    else
        echo "not ok $TAP_N - $desc"
        printf '#   got:  %s\n#   want: %s\n' "$got" "$want" | head -40
        TAP_FAILED=$((TAP_FAILED + 1))
    fi
}

skip_all() {
    echo "1..0 # SKIP $*"
    exit 0
}

bail() {
    echo "Bail out! $*"
    exit 1
}

done_testing() {
    echo "1..$TAP_N"
    [ "$TAP_FAILED" -eq 0 ]
}
