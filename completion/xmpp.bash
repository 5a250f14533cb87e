# bash completion for xmpp 0.1.0, made by `xmpp --completion bash`
# from the binary's own tool and option tables: do not edit.

_xmpp_tools='send recv'

# The options of tool $1.
_xmpp_opts() {
    case $1 in
    send) echo '--message -m --file -f --lines -l --type --subject -s --thread --id --sanitize --max-size --attach --content-type --jid -j --account -a --password-file --password-cmd --server --direct-tls --ca-file --insecure --resource --component --secret-file --timeout -t --verbose -v --quiet -q --json --xml --help -h --version -V' ;;
    recv) echo '--from --type --count -n --idle --all --priority --no-presence --jid -j --account -a --password-file --password-cmd --server --direct-tls --ca-file --insecure --resource --component --secret-file --timeout -t --verbose -v --quiet -q --json --xml --help -h --version -V' ;;
    esac
}

# What option $2 of tool $1 takes: f file, d directory, c command,
# - another value; nothing for a flag.
_xmpp_arg() {
    case $1:$2 in
    send:--message|send:-m) echo - ;;
    send:--file|send:-f) echo f ;;
    send:--type) echo - ;;
    send:--subject|send:-s) echo - ;;
    send:--thread) echo - ;;
    send:--id) echo - ;;
    send:--max-size) echo - ;;
    send:--attach) echo f ;;
    send:--content-type) echo - ;;
    send:--jid|send:-j) echo - ;;
    send:--account|send:-a) echo - ;;
    send:--password-file) echo f ;;
    send:--password-cmd) echo c ;;
    send:--server) echo - ;;
    send:--ca-file) echo f ;;
    send:--resource) echo - ;;
    send:--component) echo - ;;
    send:--secret-file) echo f ;;
    send:--timeout|send:-t) echo - ;;
    recv:--from) echo - ;;
    recv:--type) echo - ;;
    recv:--count|recv:-n) echo - ;;
    recv:--idle) echo - ;;
    recv:--priority) echo - ;;
    recv:--jid|recv:-j) echo - ;;
    recv:--account|recv:-a) echo - ;;
    recv:--password-file) echo f ;;
    recv:--password-cmd) echo c ;;
    recv:--server) echo - ;;
    recv:--ca-file) echo f ;;
    recv:--resource) echo - ;;
    recv:--component) echo - ;;
    recv:--secret-file) echo f ;;
    recv:--timeout|recv:-t) echo - ;;
    esac
}

_xmpp() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev= tool
    local cmd=${COMP_WORDS[0]##*/}
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
    COMPREPLY=()
    # --opt=VALUE: bash splits the word at '='.
    if [[ $cur == = ]]; then
        cur=
    elif [[ $prev == = ]] && ((COMP_CWORD > 1)); then
        prev=${COMP_WORDS[COMP_CWORD - 2]}
    fi
    if [[ $cmd == xmpp-* ]]; then
        tool=${cmd#xmpp-}
    elif ((COMP_CWORD == 1)); then
        mapfile -t COMPREPLY < <(compgen -W "$_xmpp_tools --help --version --completion" -- "$cur")
        return 0
    else
        tool=${COMP_WORDS[1]}
    fi
    if [[ $tool == --completion ]]; then
        ((COMP_CWORD == 2)) &&
            mapfile -t COMPREPLY < <(compgen -W 'bash zsh' -- "$cur")
        return 0
    fi
    case $(_xmpp_arg "$tool" "$prev") in
    f) compopt -o filenames 2>/dev/null
       mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
    d) compopt -o filenames 2>/dev/null
       mapfile -t COMPREPLY < <(compgen -d -- "$cur") ;;
    c) mapfile -t COMPREPLY < <(compgen -c -- "$cur") ;;
    -) ;;
    *) [[ $cur == -* ]] &&
           mapfile -t COMPREPLY < <(compgen -W "$(_xmpp_opts "$tool")" -- "$cur") ;;
    esac
    return 0
}

complete -F _xmpp xmpp xmpp-send xmpp-recv
