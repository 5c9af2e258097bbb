. "$TT_SRCDIR/tests/tap.sh"
skip_all "not written yet"
