
use builtin;
use str;

set edit:completion:arg-completer[mailsetup] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'mailsetup'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'mailsetup'= {
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand probe 'Probe a server''s six standard endpoints at once (no login)'
            cand check 'Verify login on IMAP, POP3 and SMTP, and report the storage quota'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mailsetup;probe'= {
            cand --server 'Probe exactly this endpoint instead (repeatable): imaps://h:993, imap://h:143 (STARTTLS), pop3s://, pop3://, smtps://, smtp:// and the +plain variants (imap+plain://h:143) for servers without TLS'
            cand --protocols 'Only these protocols (comma-separated: imap,pop3,smtp)'
            cand --timeout 'Overall deadline in seconds'
            cand --connect-to 'Connect to TARGET_HOST:TARGET_PORT instead of HOST:PORT (curl''s syntax, repeatable; TLS still checks the certificate against HOST). Test a new server before a DNS change'
            cand --ca-file 'Extra trusted CA certificates (PEM), on top of the system store (repeatable)'
            cand --pin-sha256 'Accept exactly the certificate with this SHA-256 fingerprint (hex, colons allowed; repeatable)'
            cand --format 'Output format'
            cand --check-injection 'Also test each STARTTLS endpoint for STARTTLS command injection (CVE-2011-0411 class): a harmless command (NOOP/RSET) is pipelined with STARTTLS; a server that answers it inside TLS is vulnerable. Never uses credentials'
            cand --insecure 'Accept invalid certificates (reported as a problem on every endpoint). Prefer --ca-file or --pin-sha256'
            cand --json 'Shorthand for --format json'
            cand -v 'Protocol trace on stderr (secrets redacted)'
            cand --verbose 'Protocol trace on stderr (secrets redacted)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mailsetup;check'= {
            cand --server 'Check exactly this endpoint (repeatable); same URL forms as `probe --server`'
            cand --username 'User name for login (default: the full email address)'
            cand --password-command 'Run CMD with `sh -c` and use the first line of its output as the password'
            cand --password-env 'Read the password from environment variable VAR'
            cand --password-file 'Read the password from the first line of PATH (- reads standard input)'
            cand --oauth2-token-command 'Run CMD with `sh -c`; its first output line is an OAuth2 access token (XOAUTH2/OAUTHBEARER)'
            cand --prefer 'Incoming protocol to recommend when both work'
            cand --name 'Your name as it should appear in sent mail (used in the recommended settings)'
            cand --protocols 'Only these protocols (comma-separated: imap,pop3,smtp)'
            cand --timeout 'Overall deadline in seconds'
            cand --connect-to 'Connect to TARGET_HOST:TARGET_PORT instead of HOST:PORT (curl''s syntax, repeatable; TLS still checks the certificate against HOST). Test a new server before a DNS change'
            cand --ca-file 'Extra trusted CA certificates (PEM), on top of the system store (repeatable)'
            cand --pin-sha256 'Accept exactly the certificate with this SHA-256 fingerprint (hex, colons allowed; repeatable)'
            cand --format 'Output format'
            cand --all-mechanisms 'Try every offered login mechanism and report each (does "encrypted password" work?)'
            cand --allow-plaintext-login 'Allow sending credentials to a +plain endpoint (readable by anyone on the network)'
            cand --insecure 'Accept invalid certificates (reported as a problem on every endpoint). Prefer --ca-file or --pin-sha256'
            cand --json 'Shorthand for --format json'
            cand -v 'Protocol trace on stderr (secrets redacted)'
            cand --verbose 'Protocol trace on stderr (secrets redacted)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mailsetup;help'= {
            cand probe 'Probe a server''s six standard endpoints at once (no login)'
            cand check 'Verify login on IMAP, POP3 and SMTP, and report the storage quota'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mailsetup;help;probe'= {
        }
        &'mailsetup;help;check'= {
        }
        &'mailsetup;help;help'= {
        }
    ]
    $completions[$command]
}
