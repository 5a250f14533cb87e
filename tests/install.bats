#!/usr/bin/env bats
# Packaging: make install / uninstall (binary, tool links, completions),
# make dist (a tarball that builds), and the pkg-config check that names
# the Debian package to install. No server needed.

load helpers

ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"

tools() { "$XMPP" --help | sed -n '/^Tools:/,/^$/s/^  \([a-z][a-z0-9-]*\) .*/\1/p' | grep .; }

@test "install: binary, xmpp-TOOL links and the three completions land under DESTDIR/PREFIX" {
    dest="$BATS_TEST_TMPDIR/dest"
    run make -C "$ROOT" install DESTDIR="$dest" PREFIX=/usr
    assert_success
    [ -x "$dest/usr/bin/xmpp" ]
    list=$(tools)
    for t in $list; do
        [ "$(readlink "$dest/usr/bin/xmpp-$t")" = xmpp ]
        # bash-completion and fish load a completion file by the command's name.
        [ "$(readlink "$dest/usr/share/bash-completion/completions/xmpp-$t")" = xmpp ]
        [ "$(readlink "$dest/usr/share/fish/vendor_completions.d/xmpp-$t.fish")" = xmpp.fish ]
    done
    diff "$dest/usr/share/bash-completion/completions/xmpp" <("$XMPP" --completion bash)
    diff "$dest/usr/share/zsh/site-functions/_xmpp" <("$XMPP" --completion zsh)
    diff "$dest/usr/share/fish/vendor_completions.d/xmpp.fish" <("$XMPP" --completion fish)
}

@test "install: the installed binary is stripped and still exports the expat hooks" {
    dest="$BATS_TEST_TMPDIR/dest"
    make -C "$ROOT" install DESTDIR="$dest" PREFIX=/usr >/dev/null
    run readelf -S "$dest/usr/bin/xmpp"
    refute_output --partial .symtab
    refute_output --partial .debug_
    # libstrophe's calls to expat must still reach common/net/xmlhook.c.
    run readelf --dyn-syms -W "$dest/usr/bin/xmpp"
    assert_line --regexp ' FUNC +GLOBAL +DEFAULT +[0-9]+ XML_Parse$'
    run "$dest/usr/bin/xmpp" --version
    assert_output "$("$XMPP" --version)"
}

@test "install: the installed fish completion, loaded as fish would, completes xmpp-send" {
    dest="$BATS_TEST_TMPDIR/dest"
    make -C "$ROOT" install DESTDIR="$dest" PREFIX=/usr >/dev/null
    # fish loads completions only for a command on PATH.
    PATH="$dest/usr/bin:$PATH" run fish --no-config -c \
        'set fish_complete_path $argv[1]/usr/share/fish/vendor_completions.d
        complete -C "xmpp-send --att"' "$dest"
    assert_output --regexp $'^--attach\t'
}

@test "install: the installed bash completion, loaded as bash-completion would, completes xmpp-send" {
    dest="$BATS_TEST_TMPDIR/dest"
    make -C "$ROOT" install DESTDIR="$dest" PREFIX=/usr >/dev/null
    run bash -c 'source "$1/usr/share/bash-completion/completions/xmpp-send"
        COMP_WORDS=(xmpp-send --att); COMP_CWORD=1; _xmpp
        printf "%s\n" "${COMPREPLY[@]}"' _ "$dest"
    assert_output "--attach"
}

@test "install: the completion directories follow BASHCOMPDIR, ZSHCOMPDIR and FISHCOMPDIR" {
    dest="$BATS_TEST_TMPDIR/dest"
    run make -C "$ROOT" install DESTDIR="$dest" PREFIX=/opt/x \
        BASHCOMPDIR=/etc/bash_completion.d ZSHCOMPDIR=/usr/share/zsh/vendor-completions \
        FISHCOMPDIR=/etc/fish/completions
    assert_success
    [ -f "$dest/etc/bash_completion.d/xmpp" ]
    [ -f "$dest/usr/share/zsh/vendor-completions/_xmpp" ]
    [ -f "$dest/etc/fish/completions/xmpp.fish" ]
    [ -x "$dest/opt/x/bin/xmpp" ]
}

@test "uninstall: removes every file install made" {
    dest="$BATS_TEST_TMPDIR/dest"
    make -C "$ROOT" install DESTDIR="$dest" PREFIX=/usr >/dev/null
    run make -C "$ROOT" uninstall DESTDIR="$dest" PREFIX=/usr
    assert_success
    run find "$dest" ! -type d
    assert_output ""
}

@test "dist: xmpp-VERSION.tar.gz holds HEAD under xmpp-VERSION/ and builds" {
    version=$("$XMPP" --version | cut -d' ' -f2)
    out="$BATS_TEST_TMPDIR/out"
    mkdir -p "$out"
    run make -C "$ROOT" dist DISTDIR="$out"
    assert_success
    tarball="$out/xmpp-$version.tar.gz"
    [ -f "$tarball" ]
    run tar -tzf "$tarball"
    assert_line "xmpp-$version/Makefile"
    assert_line "xmpp-$version/cmd/send.c"
    refute_line --regexp '(^|/)\.git/'
    refute_line --regexp "^xmpp-$version/(xmpp|completion/.*|.*\.o)$"
    # Everything is inside the one top directory.
    [ -z "$(tar -tzf "$tarball" | grep -v "^xmpp-$version/")" ]
    tar -xzf "$tarball" -C "$out"
    run make -C "$out/xmpp-$version"
    assert_success
    run "$out/xmpp-$version/xmpp" --version
    assert_output "xmpp $version"
    [ -s "$out/xmpp-$version/completion/_xmpp" ]
}

@test "dist: outside a git checkout it says so" {
    mkdir -p "$BATS_TEST_TMPDIR/tree"
    cp "$ROOT/Makefile" "$BATS_TEST_TMPDIR/tree/"
    mkdir -p "$BATS_TEST_TMPDIR/tree/common/cli"
    cp "$ROOT/common/cli/version.h" "$BATS_TEST_TMPDIR/tree/common/cli/"
    run make -C "$BATS_TEST_TMPDIR/tree" dist
    assert_failure
    assert_output --partial "make dist needs a git checkout, not a tarball"
}

# A pkg-config search path holding every .pc file but the named ones.
pc_without() {
    local dir="$BATS_TEST_TMPDIR/pc" d
    mkdir -p "$dir"
    for d in $(pkg-config --variable pc_path pkg-config | tr : ' '); do
        [ -d "$d" ] && cp "$d"/*.pc "$dir"/ 2>/dev/null || true
    done
    for d in "$@"; do rm -f "$dir/$d.pc"; done
    echo "$dir"
}

@test "pkgcheck: a missing library names the Debian package to install" {
    pc=$(pc_without libcurl)
    run env PKG_CONFIG_LIBDIR="$pc" PKG_CONFIG_PATH= make -C "$ROOT" pkgcheck
    assert_failure
    assert_output --partial "Makefile: missing libraries: install the Debian package(s) libcurl4-openssl-dev (or run 'make deps' as root)"
    refute_output --partial libstrophe-dev
}

@test "pkgcheck: make stops before compiling, naming every missing package" {
    pc=$(pc_without libcurl libstrophe)
    run env PKG_CONFIG_LIBDIR="$pc" PKG_CONFIG_PATH= make -C "$ROOT" -W main.c xmpp
    assert_failure
    assert_output --partial "install the Debian package(s) libstrophe-dev libcurl4-openssl-dev"
    refute_output --regexp '(^|[[:space:]])cc '
}

@test "pkgcheck: with everything present it is silent" {
    run make -s -C "$ROOT" pkgcheck
    assert_success
    assert_output ""
}
