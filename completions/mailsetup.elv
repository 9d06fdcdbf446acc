
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
            cand write 'Write working account configs for mail clients (`--list` shows them)'
            cand discover 'Find an address''s mail servers: provider database, autoconfig, MX, SRV, Autodiscover, guesses'
            cand setup 'The wizard: from "I have an address and a password" to a working mail client'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mailsetup;probe'= {
            cand --server 'Probe exactly this endpoint instead (repeatable): imaps://h:993, imap://h:143 (STARTTLS), pop3s://, pop3://, smtps://, smtp:// and the +plain variants (imap+plain://h:143) for servers without TLS'
            cand --protocols 'Only these protocols (comma-separated: imap,pop3,smtp)'
            cand --timeout 'Overall deadline in seconds'
            cand --connect-to 'Connect to TARGET_HOST:TARGET_PORT instead of HOST:PORT (curl''s syntax, repeatable; TLS still checks the certificate against HOST). Test a new server before a DNS change'
            cand --ca-file 'Extra trusted CA certificates (PEM), on top of the system store (repeatable)'
            cand --pin-sha256 'Accept exactly the certificate with this SHA-256 fingerprint (hex, colons allowed; repeatable)'
            cand --dns-server 'DNS server for every lookup (discovery and connections), e.g. 127.0.0.1:5353; default: the system resolver'
            cand --format 'Output format'
            cand --check-injection 'Also test each STARTTLS endpoint for STARTTLS command injection (CVE-2011-0411 class): a harmless command (NOOP/RSET) is pipelined with STARTTLS; a server that answers it inside TLS is vulnerable. Never uses credentials'
            cand --strict 'Every probed endpoint counts for the exit status (for monitoring a server): a refused standard port is then an error too'
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
            cand --sources 'Only these sources (comma-separated): autoconfig, autoconfig-wellknown, ispdb, builtin-db, mx-ispdb, mx-builtin-db, srv, autodiscover, guess'
            cand --trust-host 'Vouch for a discovered host the trust policy does not trust (outside the address''s domain, named by DNS, plain HTTP or Autodiscover): it may then receive the password and be recommended and written (repeatable)'
            cand --write 'After a successful check, write configs for these mail clients from the recommended settings (repeatable; see `mailsetup write --list`)'
            cand --out 'Directory to write into (`-` prints the files to stdout instead)'
            cand --pop3-keep-days 'POP3: delete mail from the server this many days after download'
            cand --maildir 'Local Maildir for fetching clients (mbsync, mpop, getmail, OfflineIMAP, …)'
            cand --protocols 'Only these protocols (comma-separated: imap,pop3,smtp)'
            cand --timeout 'Overall deadline in seconds'
            cand --connect-to 'Connect to TARGET_HOST:TARGET_PORT instead of HOST:PORT (curl''s syntax, repeatable; TLS still checks the certificate against HOST). Test a new server before a DNS change'
            cand --ca-file 'Extra trusted CA certificates (PEM), on top of the system store (repeatable)'
            cand --pin-sha256 'Accept exactly the certificate with this SHA-256 fingerprint (hex, colons allowed; repeatable)'
            cand --dns-server 'DNS server for every lookup (discovery and connections), e.g. 127.0.0.1:5353; default: the system resolver'
            cand --format 'Output format'
            cand --all-mechanisms 'Try every offered login mechanism and report each (does "encrypted password" work?)'
            cand --allow-plaintext-login 'Allow sending credentials to a +plain endpoint (readable by anyone on the network)'
            cand --strict 'Every checked endpoint counts for the exit status (for monitoring a server): an error on any discovered server, or a refused port, fails the run'
            cand --no-guess 'Don''t guess host names (imap.DOMAIN, mail.DOMAIN, ...) when nothing else finds servers'
            cand --trust-mx 'Confirm the provider found through the domain''s MX record (a custom domain hosted by a provider): its servers may then receive the password and be recommended and written'
            cand --install 'Write each file to the client''s conventional location (e.g. ~/.mbsyncrc) instead of --out'
            cand --dry-run 'Show what would be written, write nothing'
            cand --force 'Replace existing files (the old one is kept as FILE.bak)'
            cand --embed-password 'Write the password itself into the files (mode 0600) instead of a password command'
            cand --pop3-delete 'POP3: delete mail from the server after download (default: keep it there)'
            cand --pop3-keep 'POP3: keep mail on the server after download (the default)'
            cand --insecure 'Accept invalid certificates (reported as a problem on every endpoint). Prefer --ca-file or --pin-sha256'
            cand --json 'Shorthand for --format json'
            cand -v 'Protocol trace on stderr (secrets redacted)'
            cand --verbose 'Protocol trace on stderr (secrets redacted)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mailsetup;write'= {
            cand --from 'Take the settings from a saved `mailsetup check --json` report'
            cand --email 'The account''s address. With --server the servers are used as given (no network); alone, a check runs first and its verified settings are written'
            cand --server 'Server URLs to configure (imaps://h:993, smtps://h:465, ...), with --email'
            cand --name 'Your name as it should appear in sent mail'
            cand --prefer 'Incoming protocol to use when both work (with --email)'
            cand --sources 'Only these sources (comma-separated): autoconfig, autoconfig-wellknown, ispdb, builtin-db, mx-ispdb, mx-builtin-db, srv, autodiscover, guess'
            cand --trust-host 'Vouch for a discovered host the trust policy does not trust (outside the address''s domain, named by DNS, plain HTTP or Autodiscover): it may then receive the password and be recommended and written (repeatable)'
            cand --username 'User name for login (default: the full email address)'
            cand --password-command 'Run CMD with `sh -c` and use the first line of its output as the password'
            cand --password-env 'Read the password from environment variable VAR'
            cand --password-file 'Read the password from the first line of PATH (- reads standard input)'
            cand --oauth2-token-command 'Run CMD with `sh -c`; its first output line is an OAuth2 access token (XOAUTH2/OAUTHBEARER)'
            cand --out 'Directory to write into (`-` prints the files to stdout instead)'
            cand --pop3-keep-days 'POP3: delete mail from the server this many days after download'
            cand --maildir 'Local Maildir for fetching clients (mbsync, mpop, getmail, OfflineIMAP, …)'
            cand --protocols 'Only these protocols (comma-separated: imap,pop3,smtp)'
            cand --timeout 'Overall deadline in seconds'
            cand --connect-to 'Connect to TARGET_HOST:TARGET_PORT instead of HOST:PORT (curl''s syntax, repeatable; TLS still checks the certificate against HOST). Test a new server before a DNS change'
            cand --ca-file 'Extra trusted CA certificates (PEM), on top of the system store (repeatable)'
            cand --pin-sha256 'Accept exactly the certificate with this SHA-256 fingerprint (hex, colons allowed; repeatable)'
            cand --dns-server 'DNS server for every lookup (discovery and connections), e.g. 127.0.0.1:5353; default: the system resolver'
            cand --list 'List the supported mail clients (installed ones marked) and exit'
            cand --no-guess 'Don''t guess host names (imap.DOMAIN, mail.DOMAIN, ...) when nothing else finds servers'
            cand --trust-mx 'Confirm the provider found through the domain''s MX record (a custom domain hosted by a provider): its servers may then receive the password and be recommended and written'
            cand --install 'Write each file to the client''s conventional location (e.g. ~/.mbsyncrc) instead of --out'
            cand --dry-run 'Show what would be written, write nothing'
            cand --force 'Replace existing files (the old one is kept as FILE.bak)'
            cand --embed-password 'Write the password itself into the files (mode 0600) instead of a password command'
            cand --pop3-delete 'POP3: delete mail from the server after download (default: keep it there)'
            cand --pop3-keep 'POP3: keep mail on the server after download (the default)'
            cand --insecure 'Accept invalid certificates (reported as a problem on every endpoint). Prefer --ca-file or --pin-sha256'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mailsetup;discover'= {
            cand --sources 'Only these sources (comma-separated): autoconfig, autoconfig-wellknown, ispdb, builtin-db, mx-ispdb, mx-builtin-db, srv, autodiscover, guess'
            cand --trust-host 'Vouch for a discovered host the trust policy does not trust (outside the address''s domain, named by DNS, plain HTTP or Autodiscover): it may then receive the password and be recommended and written (repeatable)'
            cand --protocols 'Only these protocols (comma-separated: imap,pop3,smtp)'
            cand --timeout 'Overall deadline in seconds'
            cand --connect-to 'Connect to TARGET_HOST:TARGET_PORT instead of HOST:PORT (curl''s syntax, repeatable; TLS still checks the certificate against HOST). Test a new server before a DNS change'
            cand --ca-file 'Extra trusted CA certificates (PEM), on top of the system store (repeatable)'
            cand --pin-sha256 'Accept exactly the certificate with this SHA-256 fingerprint (hex, colons allowed; repeatable)'
            cand --dns-server 'DNS server for every lookup (discovery and connections), e.g. 127.0.0.1:5353; default: the system resolver'
            cand --format 'Output format'
            cand --offline 'Use only the built-in provider database: no network access at all'
            cand --no-guess 'Don''t guess host names (imap.DOMAIN, mail.DOMAIN, ...) when nothing else finds servers'
            cand --trust-mx 'Confirm the provider found through the domain''s MX record (a custom domain hosted by a provider): its servers may then receive the password and be recommended and written'
            cand --insecure 'Accept invalid certificates (reported as a problem on every endpoint). Prefer --ca-file or --pin-sha256'
            cand --json 'Shorthand for --format json'
            cand -v 'Protocol trace on stderr (secrets redacted)'
            cand --verbose 'Protocol trace on stderr (secrets redacted)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mailsetup;setup'= {
            cand --email 'Your email address (asked when missing)'
            cand --name 'Your name as it should appear in sent mail (asked when missing)'
            cand --server 'Use these servers instead of discovering them (repeatable URLs, as `check --server`)'
            cand --client 'Mail clients to write configs for (repeatable; default: ask, offering the installed ones)'
            cand --prefer 'IMAP or POP3 when both work (default: ask; IMAP with --yes)'
            cand --sources 'Only these sources (comma-separated): autoconfig, autoconfig-wellknown, ispdb, builtin-db, mx-ispdb, mx-builtin-db, srv, autodiscover, guess'
            cand --trust-host 'Vouch for a discovered host the trust policy does not trust (outside the address''s domain, named by DNS, plain HTTP or Autodiscover): it may then receive the password and be recommended and written (repeatable)'
            cand --username 'User name for login (default: the full email address)'
            cand --password-command 'Run CMD with `sh -c` and use the first line of its output as the password'
            cand --password-env 'Read the password from environment variable VAR'
            cand --password-file 'Read the password from the first line of PATH (- reads standard input)'
            cand --oauth2-token-command 'Run CMD with `sh -c`; its first output line is an OAuth2 access token (XOAUTH2/OAUTHBEARER)'
            cand --out 'Directory to write into (`-` prints the files to stdout instead)'
            cand --pop3-keep-days 'POP3: delete mail from the server this many days after download'
            cand --maildir 'Local Maildir for fetching clients (mbsync, mpop, getmail, OfflineIMAP, …)'
            cand --protocols 'Only these protocols (comma-separated: imap,pop3,smtp)'
            cand --timeout 'Overall deadline in seconds'
            cand --connect-to 'Connect to TARGET_HOST:TARGET_PORT instead of HOST:PORT (curl''s syntax, repeatable; TLS still checks the certificate against HOST). Test a new server before a DNS change'
            cand --ca-file 'Extra trusted CA certificates (PEM), on top of the system store (repeatable)'
            cand --pin-sha256 'Accept exactly the certificate with this SHA-256 fingerprint (hex, colons allowed; repeatable)'
            cand --dns-server 'DNS server for every lookup (discovery and connections), e.g. 127.0.0.1:5353; default: the system resolver'
            cand -y 'Answer every question with its flag or default; never prompt (for scripts)'
            cand --yes 'Answer every question with its flag or default; never prompt (for scripts)'
            cand --no-guess 'Don''t guess host names (imap.DOMAIN, mail.DOMAIN, ...) when nothing else finds servers'
            cand --trust-mx 'Confirm the provider found through the domain''s MX record (a custom domain hosted by a provider): its servers may then receive the password and be recommended and written'
            cand --install 'Write each file to the client''s conventional location (e.g. ~/.mbsyncrc) instead of --out'
            cand --dry-run 'Show what would be written, write nothing'
            cand --force 'Replace existing files (the old one is kept as FILE.bak)'
            cand --embed-password 'Write the password itself into the files (mode 0600) instead of a password command'
            cand --pop3-delete 'POP3: delete mail from the server after download (default: keep it there)'
            cand --pop3-keep 'POP3: keep mail on the server after download (the default)'
            cand --insecure 'Accept invalid certificates (reported as a problem on every endpoint). Prefer --ca-file or --pin-sha256'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mailsetup;help'= {
            cand probe 'Probe a server''s six standard endpoints at once (no login)'
            cand check 'Verify login on IMAP, POP3 and SMTP, and report the storage quota'
            cand write 'Write working account configs for mail clients (`--list` shows them)'
            cand discover 'Find an address''s mail servers: provider database, autoconfig, MX, SRV, Autodiscover, guesses'
            cand setup 'The wizard: from "I have an address and a password" to a working mail client'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mailsetup;help;probe'= {
        }
        &'mailsetup;help;check'= {
        }
        &'mailsetup;help;write'= {
        }
        &'mailsetup;help;discover'= {
        }
        &'mailsetup;help;setup'= {
        }
        &'mailsetup;help;help'= {
        }
    ]
    $completions[$command]
}
