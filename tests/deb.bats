#!/usr/bin/env bats
# The Debian package: `make deb` builds xmpp_VERSION_ARCH.deb (binary,
# xmpp-TOOL links, man pages, completions, copyright), lintian finds
# nothing to say about it, apt would install it, and unpacked into a
# scratch root the binary runs. No server needed.

load helpers

ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"

setup_file() {
    export DEB_OUT="$BATS_FILE_TMPDIR/out"
    mkdir -p "$ROOT/build"
    # One build at a time in the tree: both server runs of make check
    # get here at the same time.
    flock "$ROOT/build/.deb.lock" make -s -C "$ROOT" deb DEBDIR="$DEB_OUT" >/dev/null
}

deb_file() { ls "$DEB_OUT"/xmpp_*.deb; }

tools() { "$XMPP" --help | sed -n '/^Tools:/,/^$/s/^  \([a-z][a-z0-9-]*\) .*/\1/p' | grep .; }

@test "deb: make deb names the package xmpp_VERSION_ARCH.deb" {
    version=$("$XMPP" --version | cut -d' ' -f2)
    [ -f "$DEB_OUT/xmpp_${version}_$(dpkg --print-architecture).deb" ]
    run dpkg-deb -f "$(deb_file)" Package Version Depends Recommends
    assert_line "Package: xmpp"
    assert_line "Version: $version"
    assert_line --regexp '^Depends: .*libstrophe0 \(>= '
    assert_line --regexp '^Depends: .*libjansson4'
    # libcurl is loaded only for --attach
    assert_line "Recommends: libcurl4"
}

@test "deb: it holds the binary, the links, man pages, completions and copyright" {
    run dpkg-deb -c "$(deb_file)"
    assert_success
    assert_line --regexp ' \./usr/bin/xmpp$'
    assert_line --regexp ' \./usr/share/man/man1/xmpp\.1\.gz$'
    assert_line --regexp ' \./usr/share/bash-completion/completions/xmpp$'
    assert_line --regexp ' \./usr/share/zsh/vendor-completions/_xmpp$'
    assert_line --regexp ' \./usr/share/fish/vendor_completions.d/xmpp\.fish$'
    assert_line --regexp ' \./usr/share/doc/xmpp/copyright$'
    assert_line --regexp ' \./usr/share/doc/xmpp/changelog\.gz$'
    for t in $(tools); do
        assert_line --regexp " \./usr/bin/xmpp-$t -> xmpp$"
        assert_line --regexp " \./usr/share/man/man1/xmpp-$t\.1\.gz$"
    done
    # Everything belongs to root.
    run bash -c "dpkg-deb -c '$(deb_file)' | awk '{print \$2}' | sort -u"
    assert_output root/root
}

@test "deb: lintian finds nothing to say about it" {
    run lintian --fail-on error,warning,info,pedantic --info --display-info --pedantic "$(deb_file)"
    echo "$output"
    assert_success
    refute_output --regexp '^[EWIP]: '
}

@test "deb: unpacked into a scratch root, xmpp --version and the xmpp-TOOL links run" {
    root="$BATS_TEST_TMPDIR/root"
    dpkg -x "$(deb_file)" "$root"
    run "$root/usr/bin/xmpp" --version
    assert_success
    assert_output "$("$XMPP" --version)"
    run "$root/usr/bin/xmpp-send" --help
    assert_line --index 0 --partial "usage: xmpp send"
    # Stripped, with Debian's hardening (relro, bindnow).
    run readelf -S -d "$root/usr/bin/xmpp"
    refute_output --partial .symtab
    assert_output --partial BIND_NOW
    run env MANPATH="$root/usr/share/man" MANPAGER=cat MANWIDTH=80 man xmpp-send
    assert_output --partial "--attach"
}

@test "deb: apt would install it with its dependencies" {
    run apt-get install --simulate -q "$(deb_file)"
    assert_success
    assert_line --regexp '^Inst xmpp '
    refute_output --partial "unmet dependencies"
}
