
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
            cand password 'Keep a password (or OAuth2 token) in the secret store; mail clients read it back with `password get`'
            cand fetchmail 'Run fetchmail with the passwords its mailsetup entries name (it can''t run a password command itself)'
            cand deliver 'Deliver one message from standard input into a Maildir (fetchmail''s mda)'
            cand oauth2 'OAuth2 accounts: sign in (browser or device code), print fresh tokens, sign out'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mailsetup;probe'= {
            cand --server 'Probe exactly this endpoint instead (repeatable): imaps://h:993, imap://h:143 (STARTTLS), pop3s://, pop3://, smtps://, smtp:// and the +plain variants (imap+plain://h:143) for servers without TLS'
            cand --protocols 'Only these protocols (comma-separated: imap,pop3,smtp)'
            cand --timeout 'Overall deadline in seconds'
            cand --connect-to 'Connect to TARGET_HOST:TARGET_PORT instead of HOST:PORT (curl''s syntax, repeatable; TLS still checks the certificate against HOST). Test a new server before a DNS change'
            cand --ca-file 'Extra trusted CA certificates (PEM), on top of the system store (repeatable)'
            cand --pin-sha256 'Accept only a mail server certificate matching this pin (curl''s --pinnedpubkey): the certificate''s SHA-256 (64 hex digits, colons allowed) or its public key''s SHA-256 in base64 (RFC 7469, also written sha256//BASE64). The CA chain is then not required; a certificate matching no pin is refused even when a CA vouches for it. Repeatable, or several separated by '';'''
            cand --dns-server 'DNS server for every lookup (discovery and connections), e.g. 127.0.0.1:5353; default: the system resolver'
            cand --format 'Output format'
            cand --html 'Also write a self-contained HTML report to FILE (verdict, problems and what to do, timing waterfall, certificates, discovery; no password; no external resources)'
            cand --warn-cert-days 'WARNING when a certificate has fewer days left than this'
            cand --crit-cert-days 'CRITICAL when a certificate has fewer days left than this'
            cand --warn-quota 'WARNING when more than this percentage of the mailbox quota is used'
            cand --crit-quota 'CRITICAL when more than this percentage of the mailbox quota is used'
            cand --warn-time 'WARNING when the whole run takes longer than this many seconds'
            cand --crit-time 'CRITICAL when the whole run takes longer than this many seconds'
            cand --check-injection 'Also test each STARTTLS endpoint for STARTTLS command injection (CVE-2011-0411 class): a harmless command (NOOP/RSET) is pipelined with STARTTLS; a server that answers it inside TLS is vulnerable. Never uses credentials'
            cand --strict 'Every probed endpoint counts for the exit status (for monitoring a server): a refused standard port is then an error too'
            cand --insecure 'Accept invalid certificates (reported as a problem on every endpoint). Prefer --ca-file or --pin-sha256'
            cand --json 'Shorthand for --format json'
            cand -v 'Protocol trace on stderr (secrets redacted)'
            cand --verbose 'Protocol trace on stderr (secrets redacted)'
            cand --timings 'Human output: also print the timing waterfall (every phase of every endpoint and lookup)'
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
            cand --round-trip-timeout 'How long the test message may take to arrive, in seconds'
            cand --round-trip-to 'Send the test message to this address instead (another mailbox, an autoresponder) and only report whether the server accepted it; implies --round-trip'
            cand --write 'After a successful check, write configs for these mail clients from the recommended settings (repeatable; see `mailsetup write --list`)'
            cand --out 'Directory to write the files into, to copy them yourself (`-` prints them to stdout); `write` defaults to `.`, `setup` installs unless this is given'
            cand --store-password 'Keep the password in this store (keyring, pass, or file: a private file) and let the configs read it back with `mailsetup password get`'
            cand --pop3-keep-days 'POP3: delete mail from the server this many days after download'
            cand --maildir 'Local Maildir for fetching clients (mbsync, mpop, getmail, OfflineIMAP, …)'
            cand --protocols 'Only these protocols (comma-separated: imap,pop3,smtp)'
            cand --timeout 'Overall deadline in seconds'
            cand --connect-to 'Connect to TARGET_HOST:TARGET_PORT instead of HOST:PORT (curl''s syntax, repeatable; TLS still checks the certificate against HOST). Test a new server before a DNS change'
            cand --ca-file 'Extra trusted CA certificates (PEM), on top of the system store (repeatable)'
            cand --pin-sha256 'Accept only a mail server certificate matching this pin (curl''s --pinnedpubkey): the certificate''s SHA-256 (64 hex digits, colons allowed) or its public key''s SHA-256 in base64 (RFC 7469, also written sha256//BASE64). The CA chain is then not required; a certificate matching no pin is refused even when a CA vouches for it. Repeatable, or several separated by '';'''
            cand --dns-server 'DNS server for every lookup (discovery and connections), e.g. 127.0.0.1:5353; default: the system resolver'
            cand --format 'Output format'
            cand --html 'Also write a self-contained HTML report to FILE (verdict, problems and what to do, timing waterfall, certificates, discovery; no password; no external resources)'
            cand --warn-cert-days 'WARNING when a certificate has fewer days left than this'
            cand --crit-cert-days 'CRITICAL when a certificate has fewer days left than this'
            cand --warn-quota 'WARNING when more than this percentage of the mailbox quota is used'
            cand --crit-quota 'CRITICAL when more than this percentage of the mailbox quota is used'
            cand --warn-time 'WARNING when the whole run takes longer than this many seconds'
            cand --crit-time 'CRITICAL when the whole run takes longer than this many seconds'
            cand --oauth2 'Log in with the OAuth2 sign-in stored by `mailsetup oauth2 login` (the default when one is stored for the address and no other credential is given)'
            cand --all-mechanisms 'Try every offered login mechanism and report each (does "encrypted password" work?)'
            cand --allow-plaintext-login 'Allow sending credentials to a +plain endpoint (readable by anyone on the network)'
            cand --strict 'Every checked endpoint counts for the exit status (for monitoring a server): an error on any discovered server, or a refused port, fails the run'
            cand --no-guess 'Don''t guess host names (imap.DOMAIN, mail.DOMAIN, ...) when nothing else finds servers'
            cand --trust-mx 'Confirm the provider found through the domain''s MX record (a custom domain hosted by a provider): its servers may then receive the password and be recommended and written'
            cand --round-trip 'After the logins verified, send a test message to yourself through the recommended outgoing server, watch it arrive on the recommended incoming server, then delete it'
            cand --install 'Install each file where its client looks (e.g. ~/.mbsyncrc): a new file, or a marked block added to (or replaced in) an existing one — nothing else in it changes, the old version is kept as FILE.bak — and the directories the client needs'
            cand --dry-run 'Show what would be written, write nothing'
            cand --force 'Replace existing files (the old one is kept as FILE.bak)'
            cand --embed-password 'Write the password itself into the files (mode 0600) instead of a password command'
            cand --pop3-delete 'POP3: delete mail from the server after download (default: keep it there)'
            cand --pop3-keep 'POP3: keep mail on the server after download (the default)'
            cand --insecure 'Accept invalid certificates (reported as a problem on every endpoint). Prefer --ca-file or --pin-sha256'
            cand --json 'Shorthand for --format json'
            cand -v 'Protocol trace on stderr (secrets redacted)'
            cand --verbose 'Protocol trace on stderr (secrets redacted)'
            cand --timings 'Human output: also print the timing waterfall (every phase of every endpoint and lookup)'
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
            cand --out 'Directory to write the files into, to copy them yourself (`-` prints them to stdout); `write` defaults to `.`, `setup` installs unless this is given'
            cand --store-password 'Keep the password in this store (keyring, pass, or file: a private file) and let the configs read it back with `mailsetup password get`'
            cand --pop3-keep-days 'POP3: delete mail from the server this many days after download'
            cand --maildir 'Local Maildir for fetching clients (mbsync, mpop, getmail, OfflineIMAP, …)'
            cand --protocols 'Only these protocols (comma-separated: imap,pop3,smtp)'
            cand --timeout 'Overall deadline in seconds'
            cand --connect-to 'Connect to TARGET_HOST:TARGET_PORT instead of HOST:PORT (curl''s syntax, repeatable; TLS still checks the certificate against HOST). Test a new server before a DNS change'
            cand --ca-file 'Extra trusted CA certificates (PEM), on top of the system store (repeatable)'
            cand --pin-sha256 'Accept only a mail server certificate matching this pin (curl''s --pinnedpubkey): the certificate''s SHA-256 (64 hex digits, colons allowed) or its public key''s SHA-256 in base64 (RFC 7469, also written sha256//BASE64). The CA chain is then not required; a certificate matching no pin is refused even when a CA vouches for it. Repeatable, or several separated by '';'''
            cand --dns-server 'DNS server for every lookup (discovery and connections), e.g. 127.0.0.1:5353; default: the system resolver'
            cand --list 'List the supported mail clients (installed ones marked) and exit'
            cand --no-guess 'Don''t guess host names (imap.DOMAIN, mail.DOMAIN, ...) when nothing else finds servers'
            cand --trust-mx 'Confirm the provider found through the domain''s MX record (a custom domain hosted by a provider): its servers may then receive the password and be recommended and written'
            cand --oauth2 'Log in with the OAuth2 sign-in stored by `mailsetup oauth2 login` (the default when one is stored for the address and no other credential is given)'
            cand --install 'Install each file where its client looks (e.g. ~/.mbsyncrc): a new file, or a marked block added to (or replaced in) an existing one — nothing else in it changes, the old version is kept as FILE.bak — and the directories the client needs'
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
            cand --pin-sha256 'Accept only a mail server certificate matching this pin (curl''s --pinnedpubkey): the certificate''s SHA-256 (64 hex digits, colons allowed) or its public key''s SHA-256 in base64 (RFC 7469, also written sha256//BASE64). The CA chain is then not required; a certificate matching no pin is refused even when a CA vouches for it. Repeatable, or several separated by '';'''
            cand --dns-server 'DNS server for every lookup (discovery and connections), e.g. 127.0.0.1:5353; default: the system resolver'
            cand --format 'Output format'
            cand --html 'Also write a self-contained HTML report to FILE (verdict, problems and what to do, timing waterfall, certificates, discovery; no password; no external resources)'
            cand --warn-cert-days 'WARNING when a certificate has fewer days left than this'
            cand --crit-cert-days 'CRITICAL when a certificate has fewer days left than this'
            cand --warn-quota 'WARNING when more than this percentage of the mailbox quota is used'
            cand --crit-quota 'CRITICAL when more than this percentage of the mailbox quota is used'
            cand --warn-time 'WARNING when the whole run takes longer than this many seconds'
            cand --crit-time 'CRITICAL when the whole run takes longer than this many seconds'
            cand --offline 'Use only the built-in provider database: no network access at all'
            cand --no-guess 'Don''t guess host names (imap.DOMAIN, mail.DOMAIN, ...) when nothing else finds servers'
            cand --trust-mx 'Confirm the provider found through the domain''s MX record (a custom domain hosted by a provider): its servers may then receive the password and be recommended and written'
            cand --insecure 'Accept invalid certificates (reported as a problem on every endpoint). Prefer --ca-file or --pin-sha256'
            cand --json 'Shorthand for --format json'
            cand -v 'Protocol trace on stderr (secrets redacted)'
            cand --verbose 'Protocol trace on stderr (secrets redacted)'
            cand --timings 'Human output: also print the timing waterfall (every phase of every endpoint and lookup)'
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
            cand --oauth2-flow 'OAuth2 sign-in when the provider uses it: browser (PKCE) or device code'
            cand --oauth2-client-id 'OAuth2 client ID registered with the provider (remembered per provider)'
            cand --oauth2-client-secret 'The client secret the provider issued with the client ID, if any (installed-application secrets are not confidential; remembered with the ID in a 0600 file)'
            cand --oauth2-issuer 'The authorization server''s issuer URL, for providers the built-in database does not know'
            cand --oauth2-scope 'Scopes to ask for (space-separated; default: the provider''s mail scope)'
            cand --out 'Directory to write the files into, to copy them yourself (`-` prints them to stdout); `write` defaults to `.`, `setup` installs unless this is given'
            cand --store-password 'Keep the password in this store (keyring, pass, or file: a private file) and let the configs read it back with `mailsetup password get`'
            cand --pop3-keep-days 'POP3: delete mail from the server this many days after download'
            cand --maildir 'Local Maildir for fetching clients (mbsync, mpop, getmail, OfflineIMAP, …)'
            cand --protocols 'Only these protocols (comma-separated: imap,pop3,smtp)'
            cand --timeout 'Overall deadline in seconds'
            cand --connect-to 'Connect to TARGET_HOST:TARGET_PORT instead of HOST:PORT (curl''s syntax, repeatable; TLS still checks the certificate against HOST). Test a new server before a DNS change'
            cand --ca-file 'Extra trusted CA certificates (PEM), on top of the system store (repeatable)'
            cand --pin-sha256 'Accept only a mail server certificate matching this pin (curl''s --pinnedpubkey): the certificate''s SHA-256 (64 hex digits, colons allowed) or its public key''s SHA-256 in base64 (RFC 7469, also written sha256//BASE64). The CA chain is then not required; a certificate matching no pin is refused even when a CA vouches for it. Repeatable, or several separated by '';'''
            cand --dns-server 'DNS server for every lookup (discovery and connections), e.g. 127.0.0.1:5353; default: the system resolver'
            cand -y 'Answer every question with its flag or default; never prompt (for scripts)'
            cand --yes 'Answer every question with its flag or default; never prompt (for scripts)'
            cand --round-trip 'Send a test message to yourself after the check and watch it arrive (asked when interactive; the message is deleted again)'
            cand --no-guess 'Don''t guess host names (imap.DOMAIN, mail.DOMAIN, ...) when nothing else finds servers'
            cand --trust-mx 'Confirm the provider found through the domain''s MX record (a custom domain hosted by a provider): its servers may then receive the password and be recommended and written'
            cand --oauth2 'Log in with the OAuth2 sign-in stored by `mailsetup oauth2 login` (the default when one is stored for the address and no other credential is given)'
            cand --install 'Install each file where its client looks (e.g. ~/.mbsyncrc): a new file, or a marked block added to (or replaced in) an existing one — nothing else in it changes, the old version is kept as FILE.bak — and the directories the client needs'
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
        &'mailsetup;password'= {
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand set 'Store a secret (read from a no-echo prompt, or from the first line of standard input)'
            cand get 'Print the secret on standard output (nothing else); exit 3 when absent, 4 when the store is locked or unavailable'
            cand delete 'Remove the secret; exit 3 when there was none'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mailsetup;password;set'= {
            cand --store 'keyring (Secret Service / macOS Keychain), pass, or file (mode 0600). Default for set: keyring, else pass; for get and delete: every usable store, in that order'
            cand --kind 'What the secret is: password, or oauth2-refresh-token'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mailsetup;password;get'= {
            cand --store 'keyring (Secret Service / macOS Keychain), pass, or file (mode 0600). Default for set: keyring, else pass; for get and delete: every usable store, in that order'
            cand --kind 'What the secret is: password, or oauth2-refresh-token'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mailsetup;password;delete'= {
            cand --store 'keyring (Secret Service / macOS Keychain), pass, or file (mode 0600). Default for set: keyring, else pass; for get and delete: every usable store, in that order'
            cand --kind 'What the secret is: password, or oauth2-refresh-token'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mailsetup;password;help'= {
            cand set 'Store a secret (read from a no-echo prompt, or from the first line of standard input)'
            cand get 'Print the secret on standard output (nothing else); exit 3 when absent, 4 when the store is locked or unavailable'
            cand delete 'Remove the secret; exit 3 when there was none'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mailsetup;password;help;set'= {
        }
        &'mailsetup;password;help;get'= {
        }
        &'mailsetup;password;help;delete'= {
        }
        &'mailsetup;password;help;help'= {
        }
        &'mailsetup;fetchmail'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mailsetup;deliver'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mailsetup;oauth2'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand login 'Sign in with the provider (browser with PKCE, or a device code) and store the tokens'
            cand token 'Print a fresh access token for ADDRESS on stdout (the command mail clients run)'
            cand logout 'Revoke the sign-in at the provider (where supported) and delete what is stored'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mailsetup;oauth2;login'= {
            cand --oauth2-client-id 'OAuth2 client ID registered with the provider (remembered per provider)'
            cand --oauth2-client-secret 'The client secret the provider issued with the client ID, if any (installed-application secrets are not confidential; remembered with the ID in a 0600 file)'
            cand --oauth2-issuer 'The authorization server''s issuer URL, for providers the built-in database does not know'
            cand --oauth2-scope 'Scopes to ask for (space-separated; default: the provider''s mail scope)'
            cand --flow 'How to sign in'
            cand --username 'The login name the mail servers expect (default: the email address)'
            cand --ca-file 'Extra trusted CA certificates (PEM) for the provider''s HTTPS endpoints (remembered for this account''s token refreshes)'
            cand --timeout 'Seconds to wait for the sign-in to be completed'
            cand --store 'Where to keep the refresh token: keyring (Secret Service / macOS Keychain), pass, or file (mode 0600, next to the account). Default: keyring, else pass, else the file'
            cand --no-browser 'Don''t start a browser; print the address to open instead'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mailsetup;oauth2;token'= {
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mailsetup;oauth2;logout'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mailsetup;oauth2;help'= {
            cand login 'Sign in with the provider (browser with PKCE, or a device code) and store the tokens'
            cand token 'Print a fresh access token for ADDRESS on stdout (the command mail clients run)'
            cand logout 'Revoke the sign-in at the provider (where supported) and delete what is stored'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mailsetup;oauth2;help;login'= {
        }
        &'mailsetup;oauth2;help;token'= {
        }
        &'mailsetup;oauth2;help;logout'= {
        }
        &'mailsetup;oauth2;help;help'= {
        }
        &'mailsetup;help'= {
            cand probe 'Probe a server''s six standard endpoints at once (no login)'
            cand check 'Verify login on IMAP, POP3 and SMTP, and report the storage quota'
            cand write 'Write working account configs for mail clients (`--list` shows them)'
            cand discover 'Find an address''s mail servers: provider database, autoconfig, MX, SRV, Autodiscover, guesses'
            cand setup 'The wizard: from "I have an address and a password" to a working mail client'
            cand password 'Keep a password (or OAuth2 token) in the secret store; mail clients read it back with `password get`'
            cand fetchmail 'Run fetchmail with the passwords its mailsetup entries name (it can''t run a password command itself)'
            cand deliver 'Deliver one message from standard input into a Maildir (fetchmail''s mda)'
            cand oauth2 'OAuth2 accounts: sign in (browser or device code), print fresh tokens, sign out'
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
        &'mailsetup;help;password'= {
            cand set 'Store a secret (read from a no-echo prompt, or from the first line of standard input)'
            cand get 'Print the secret on standard output (nothing else); exit 3 when absent, 4 when the store is locked or unavailable'
            cand delete 'Remove the secret; exit 3 when there was none'
        }
        &'mailsetup;help;password;set'= {
        }
        &'mailsetup;help;password;get'= {
        }
        &'mailsetup;help;password;delete'= {
        }
        &'mailsetup;help;fetchmail'= {
        }
        &'mailsetup;help;deliver'= {
        }
        &'mailsetup;help;oauth2'= {
            cand login 'Sign in with the provider (browser with PKCE, or a device code) and store the tokens'
            cand token 'Print a fresh access token for ADDRESS on stdout (the command mail clients run)'
            cand logout 'Revoke the sign-in at the provider (where supported) and delete what is stored'
        }
        &'mailsetup;help;oauth2;login'= {
        }
        &'mailsetup;help;oauth2;token'= {
        }
        &'mailsetup;help;oauth2;logout'= {
        }
        &'mailsetup;help;help'= {
        }
    ]
    $completions[$command]
}
