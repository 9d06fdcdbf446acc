
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'mailsetup' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'mailsetup'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'mailsetup' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('probe', 'probe', [CompletionResultType]::ParameterValue, 'Probe a server''s six standard endpoints at once (no login)')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Verify login on IMAP, POP3 and SMTP, and report the storage quota')
            [CompletionResult]::new('write', 'write', [CompletionResultType]::ParameterValue, 'Write working account configs for mail clients (`--list` shows them)')
            [CompletionResult]::new('discover', 'discover', [CompletionResultType]::ParameterValue, 'Find an address''s mail servers: provider database, autoconfig, MX, SRV, Autodiscover, guesses')
            [CompletionResult]::new('setup', 'setup', [CompletionResultType]::ParameterValue, 'The wizard: from "I have an address and a password" to a working mail client')
            [CompletionResult]::new('password', 'password', [CompletionResultType]::ParameterValue, 'Keep a password (or OAuth2 token) in the secret store; mail clients read it back with `password get`')
            [CompletionResult]::new('fetchmail', 'fetchmail', [CompletionResultType]::ParameterValue, 'Run fetchmail with the passwords its mailsetup entries name (it can''t run a password command itself)')
            [CompletionResult]::new('deliver', 'deliver', [CompletionResultType]::ParameterValue, 'Deliver one message from standard input into a Maildir (fetchmail''s mda)')
            [CompletionResult]::new('oauth2', 'oauth2', [CompletionResultType]::ParameterValue, 'OAuth2 accounts: sign in (browser or device code), print fresh tokens, sign out')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mailsetup;probe' {
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Probe exactly this endpoint instead (repeatable): imaps://h:993, imap://h:143 (STARTTLS), pop3s://, pop3://, smtps://, smtp:// and the +plain variants (imap+plain://h:143) for servers without TLS')
            [CompletionResult]::new('--protocols', '--protocols', [CompletionResultType]::ParameterName, 'Only these protocols (comma-separated: imap,pop3,smtp)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Overall deadline in seconds')
            [CompletionResult]::new('--connect-to', '--connect-to', [CompletionResultType]::ParameterName, 'Connect to TARGET_HOST:TARGET_PORT instead of HOST:PORT (curl''s syntax, repeatable; TLS still checks the certificate against HOST). Test a new server before a DNS change')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'Extra trusted CA certificates (PEM), on top of the system store (repeatable)')
            [CompletionResult]::new('--pin-sha256', '--pin-sha256', [CompletionResultType]::ParameterName, 'Accept only a mail server certificate matching this pin (curl''s --pinnedpubkey): the certificate''s SHA-256 (64 hex digits, colons allowed) or its public key''s SHA-256 in base64 (RFC 7469, also written sha256//BASE64). The CA chain is then not required; a certificate matching no pin is refused even when a CA vouches for it. Repeatable, or several separated by '';''')
            [CompletionResult]::new('--dns-server', '--dns-server', [CompletionResultType]::ParameterName, 'DNS server for every lookup (discovery and connections), e.g. 127.0.0.1:5353; default: the system resolver')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--html', '--html', [CompletionResultType]::ParameterName, 'Also write a self-contained HTML report to FILE (verdict, problems and what to do, timing waterfall, certificates, discovery; no password; no external resources)')
            [CompletionResult]::new('--warn-cert-days', '--warn-cert-days', [CompletionResultType]::ParameterName, 'WARNING when a certificate has fewer days left than this')
            [CompletionResult]::new('--crit-cert-days', '--crit-cert-days', [CompletionResultType]::ParameterName, 'CRITICAL when a certificate has fewer days left than this')
            [CompletionResult]::new('--warn-quota', '--warn-quota', [CompletionResultType]::ParameterName, 'WARNING when more than this percentage of the mailbox quota is used')
            [CompletionResult]::new('--crit-quota', '--crit-quota', [CompletionResultType]::ParameterName, 'CRITICAL when more than this percentage of the mailbox quota is used')
            [CompletionResult]::new('--warn-time', '--warn-time', [CompletionResultType]::ParameterName, 'WARNING when the whole run takes longer than this many seconds')
            [CompletionResult]::new('--crit-time', '--crit-time', [CompletionResultType]::ParameterName, 'CRITICAL when the whole run takes longer than this many seconds')
            [CompletionResult]::new('--check-injection', '--check-injection', [CompletionResultType]::ParameterName, 'Also test each STARTTLS endpoint for STARTTLS command injection (CVE-2011-0411 class): a harmless command (NOOP/RSET) is pipelined with STARTTLS; a server that answers it inside TLS is vulnerable. Never uses credentials')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Every probed endpoint counts for the exit status (for monitoring a server): a refused standard port is then an error too')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Accept invalid certificates (reported as a problem on every endpoint). Prefer --ca-file or --pin-sha256')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Shorthand for --format json')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Protocol trace on stderr (secrets redacted)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Protocol trace on stderr (secrets redacted)')
            [CompletionResult]::new('--timings', '--timings', [CompletionResultType]::ParameterName, 'Human output: also print the timing waterfall (every phase of every endpoint and lookup)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mailsetup;check' {
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Check exactly this endpoint (repeatable); same URL forms as `probe --server`')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'User name for login (default: the full email address)')
            [CompletionResult]::new('--password-command', '--password-command', [CompletionResultType]::ParameterName, 'Run CMD with `sh -c` and use the first line of its output as the password')
            [CompletionResult]::new('--password-env', '--password-env', [CompletionResultType]::ParameterName, 'Read the password from environment variable VAR')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the password from the first line of PATH (- reads standard input)')
            [CompletionResult]::new('--oauth2-token-command', '--oauth2-token-command', [CompletionResultType]::ParameterName, 'Run CMD with `sh -c`; its first output line is an OAuth2 access token (XOAUTH2/OAUTHBEARER)')
            [CompletionResult]::new('--prefer', '--prefer', [CompletionResultType]::ParameterName, 'Incoming protocol to recommend when both work')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Your name as it should appear in sent mail (used in the recommended settings)')
            [CompletionResult]::new('--sources', '--sources', [CompletionResultType]::ParameterName, 'Only these sources (comma-separated): autoconfig, autoconfig-wellknown, ispdb, builtin-db, mx-ispdb, mx-builtin-db, srv, autodiscover, guess')
            [CompletionResult]::new('--trust-host', '--trust-host', [CompletionResultType]::ParameterName, 'Vouch for a discovered host the trust policy does not trust (outside the address''s domain, named by DNS, plain HTTP or Autodiscover): it may then receive the password and be recommended and written (repeatable)')
            [CompletionResult]::new('--round-trip-timeout', '--round-trip-timeout', [CompletionResultType]::ParameterName, 'How long the test message may take to arrive, in seconds')
            [CompletionResult]::new('--round-trip-to', '--round-trip-to', [CompletionResultType]::ParameterName, 'Send the test message to this address instead (another mailbox, an autoresponder) and only report whether the server accepted it; implies --round-trip')
            [CompletionResult]::new('--write', '--write', [CompletionResultType]::ParameterName, 'After a successful check, write configs for these mail clients from the recommended settings (repeatable; see `mailsetup write --list`)')
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Directory to write the files into, to copy them yourself (`-` prints them to stdout); `write` defaults to `.`, `setup` installs unless this is given')
            [CompletionResult]::new('--store-password', '--store-password', [CompletionResultType]::ParameterName, 'Keep the password in this store (keyring, pass, or file: a private file) and let the configs read it back with `mailsetup password get`')
            [CompletionResult]::new('--pop3-keep-days', '--pop3-keep-days', [CompletionResultType]::ParameterName, 'POP3: delete mail from the server this many days after download')
            [CompletionResult]::new('--maildir', '--maildir', [CompletionResultType]::ParameterName, 'Local Maildir for fetching clients (mbsync, mpop, getmail, OfflineIMAP, …)')
            [CompletionResult]::new('--protocols', '--protocols', [CompletionResultType]::ParameterName, 'Only these protocols (comma-separated: imap,pop3,smtp)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Overall deadline in seconds')
            [CompletionResult]::new('--connect-to', '--connect-to', [CompletionResultType]::ParameterName, 'Connect to TARGET_HOST:TARGET_PORT instead of HOST:PORT (curl''s syntax, repeatable; TLS still checks the certificate against HOST). Test a new server before a DNS change')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'Extra trusted CA certificates (PEM), on top of the system store (repeatable)')
            [CompletionResult]::new('--pin-sha256', '--pin-sha256', [CompletionResultType]::ParameterName, 'Accept only a mail server certificate matching this pin (curl''s --pinnedpubkey): the certificate''s SHA-256 (64 hex digits, colons allowed) or its public key''s SHA-256 in base64 (RFC 7469, also written sha256//BASE64). The CA chain is then not required; a certificate matching no pin is refused even when a CA vouches for it. Repeatable, or several separated by '';''')
            [CompletionResult]::new('--dns-server', '--dns-server', [CompletionResultType]::ParameterName, 'DNS server for every lookup (discovery and connections), e.g. 127.0.0.1:5353; default: the system resolver')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--html', '--html', [CompletionResultType]::ParameterName, 'Also write a self-contained HTML report to FILE (verdict, problems and what to do, timing waterfall, certificates, discovery; no password; no external resources)')
            [CompletionResult]::new('--warn-cert-days', '--warn-cert-days', [CompletionResultType]::ParameterName, 'WARNING when a certificate has fewer days left than this')
            [CompletionResult]::new('--crit-cert-days', '--crit-cert-days', [CompletionResultType]::ParameterName, 'CRITICAL when a certificate has fewer days left than this')
            [CompletionResult]::new('--warn-quota', '--warn-quota', [CompletionResultType]::ParameterName, 'WARNING when more than this percentage of the mailbox quota is used')
            [CompletionResult]::new('--crit-quota', '--crit-quota', [CompletionResultType]::ParameterName, 'CRITICAL when more than this percentage of the mailbox quota is used')
            [CompletionResult]::new('--warn-time', '--warn-time', [CompletionResultType]::ParameterName, 'WARNING when the whole run takes longer than this many seconds')
            [CompletionResult]::new('--crit-time', '--crit-time', [CompletionResultType]::ParameterName, 'CRITICAL when the whole run takes longer than this many seconds')
            [CompletionResult]::new('--oauth2', '--oauth2', [CompletionResultType]::ParameterName, 'Log in with the OAuth2 sign-in stored by `mailsetup oauth2 login` (the default when one is stored for the address and no other credential is given)')
            [CompletionResult]::new('--all-mechanisms', '--all-mechanisms', [CompletionResultType]::ParameterName, 'Try every offered login mechanism and report each (does "encrypted password" work?)')
            [CompletionResult]::new('--allow-plaintext-login', '--allow-plaintext-login', [CompletionResultType]::ParameterName, 'Allow sending credentials to a +plain endpoint (readable by anyone on the network)')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Every checked endpoint counts for the exit status (for monitoring a server): an error on any discovered server, or a refused port, fails the run')
            [CompletionResult]::new('--no-guess', '--no-guess', [CompletionResultType]::ParameterName, 'Don''t guess host names (imap.DOMAIN, mail.DOMAIN, ...) when nothing else finds servers')
            [CompletionResult]::new('--trust-mx', '--trust-mx', [CompletionResultType]::ParameterName, 'Confirm the provider found through the domain''s MX record (a custom domain hosted by a provider): its servers may then receive the password and be recommended and written')
            [CompletionResult]::new('--round-trip', '--round-trip', [CompletionResultType]::ParameterName, 'After the logins verified, send a test message to yourself through the recommended outgoing server, watch it arrive on the recommended incoming server, then delete it')
            [CompletionResult]::new('--install', '--install', [CompletionResultType]::ParameterName, 'Install each file where its client looks (e.g. ~/.mbsyncrc): a new file, or a marked block added to (or replaced in) an existing one — nothing else in it changes, the old version is kept as FILE.bak — and the directories the client needs')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would be written, write nothing')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace existing files (the old one is kept as FILE.bak)')
            [CompletionResult]::new('--embed-password', '--embed-password', [CompletionResultType]::ParameterName, 'Write the password itself into the files (mode 0600) instead of a password command')
            [CompletionResult]::new('--pop3-delete', '--pop3-delete', [CompletionResultType]::ParameterName, 'POP3: delete mail from the server after download (default: keep it there)')
            [CompletionResult]::new('--pop3-keep', '--pop3-keep', [CompletionResultType]::ParameterName, 'POP3: keep mail on the server after download (the default)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Accept invalid certificates (reported as a problem on every endpoint). Prefer --ca-file or --pin-sha256')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Shorthand for --format json')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Protocol trace on stderr (secrets redacted)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Protocol trace on stderr (secrets redacted)')
            [CompletionResult]::new('--timings', '--timings', [CompletionResultType]::ParameterName, 'Human output: also print the timing waterfall (every phase of every endpoint and lookup)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mailsetup;write' {
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'Take the settings from a saved `mailsetup check --json` report')
            [CompletionResult]::new('--email', '--email', [CompletionResultType]::ParameterName, 'The account''s address. With --server the servers are used as given (no network); alone, a check runs first and its verified settings are written')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Server URLs to configure (imaps://h:993, smtps://h:465, ...), with --email')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Your name as it should appear in sent mail')
            [CompletionResult]::new('--prefer', '--prefer', [CompletionResultType]::ParameterName, 'Incoming protocol to use when both work (with --email)')
            [CompletionResult]::new('--sources', '--sources', [CompletionResultType]::ParameterName, 'Only these sources (comma-separated): autoconfig, autoconfig-wellknown, ispdb, builtin-db, mx-ispdb, mx-builtin-db, srv, autodiscover, guess')
            [CompletionResult]::new('--trust-host', '--trust-host', [CompletionResultType]::ParameterName, 'Vouch for a discovered host the trust policy does not trust (outside the address''s domain, named by DNS, plain HTTP or Autodiscover): it may then receive the password and be recommended and written (repeatable)')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'User name for login (default: the full email address)')
            [CompletionResult]::new('--password-command', '--password-command', [CompletionResultType]::ParameterName, 'Run CMD with `sh -c` and use the first line of its output as the password')
            [CompletionResult]::new('--password-env', '--password-env', [CompletionResultType]::ParameterName, 'Read the password from environment variable VAR')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the password from the first line of PATH (- reads standard input)')
            [CompletionResult]::new('--oauth2-token-command', '--oauth2-token-command', [CompletionResultType]::ParameterName, 'Run CMD with `sh -c`; its first output line is an OAuth2 access token (XOAUTH2/OAUTHBEARER)')
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Directory to write the files into, to copy them yourself (`-` prints them to stdout); `write` defaults to `.`, `setup` installs unless this is given')
            [CompletionResult]::new('--store-password', '--store-password', [CompletionResultType]::ParameterName, 'Keep the password in this store (keyring, pass, or file: a private file) and let the configs read it back with `mailsetup password get`')
            [CompletionResult]::new('--pop3-keep-days', '--pop3-keep-days', [CompletionResultType]::ParameterName, 'POP3: delete mail from the server this many days after download')
            [CompletionResult]::new('--maildir', '--maildir', [CompletionResultType]::ParameterName, 'Local Maildir for fetching clients (mbsync, mpop, getmail, OfflineIMAP, …)')
            [CompletionResult]::new('--protocols', '--protocols', [CompletionResultType]::ParameterName, 'Only these protocols (comma-separated: imap,pop3,smtp)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Overall deadline in seconds')
            [CompletionResult]::new('--connect-to', '--connect-to', [CompletionResultType]::ParameterName, 'Connect to TARGET_HOST:TARGET_PORT instead of HOST:PORT (curl''s syntax, repeatable; TLS still checks the certificate against HOST). Test a new server before a DNS change')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'Extra trusted CA certificates (PEM), on top of the system store (repeatable)')
            [CompletionResult]::new('--pin-sha256', '--pin-sha256', [CompletionResultType]::ParameterName, 'Accept only a mail server certificate matching this pin (curl''s --pinnedpubkey): the certificate''s SHA-256 (64 hex digits, colons allowed) or its public key''s SHA-256 in base64 (RFC 7469, also written sha256//BASE64). The CA chain is then not required; a certificate matching no pin is refused even when a CA vouches for it. Repeatable, or several separated by '';''')
            [CompletionResult]::new('--dns-server', '--dns-server', [CompletionResultType]::ParameterName, 'DNS server for every lookup (discovery and connections), e.g. 127.0.0.1:5353; default: the system resolver')
            [CompletionResult]::new('--list', '--list', [CompletionResultType]::ParameterName, 'List the supported mail clients (installed ones marked) and exit')
            [CompletionResult]::new('--no-guess', '--no-guess', [CompletionResultType]::ParameterName, 'Don''t guess host names (imap.DOMAIN, mail.DOMAIN, ...) when nothing else finds servers')
            [CompletionResult]::new('--trust-mx', '--trust-mx', [CompletionResultType]::ParameterName, 'Confirm the provider found through the domain''s MX record (a custom domain hosted by a provider): its servers may then receive the password and be recommended and written')
            [CompletionResult]::new('--oauth2', '--oauth2', [CompletionResultType]::ParameterName, 'Log in with the OAuth2 sign-in stored by `mailsetup oauth2 login` (the default when one is stored for the address and no other credential is given)')
            [CompletionResult]::new('--install', '--install', [CompletionResultType]::ParameterName, 'Install each file where its client looks (e.g. ~/.mbsyncrc): a new file, or a marked block added to (or replaced in) an existing one — nothing else in it changes, the old version is kept as FILE.bak — and the directories the client needs')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would be written, write nothing')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace existing files (the old one is kept as FILE.bak)')
            [CompletionResult]::new('--embed-password', '--embed-password', [CompletionResultType]::ParameterName, 'Write the password itself into the files (mode 0600) instead of a password command')
            [CompletionResult]::new('--pop3-delete', '--pop3-delete', [CompletionResultType]::ParameterName, 'POP3: delete mail from the server after download (default: keep it there)')
            [CompletionResult]::new('--pop3-keep', '--pop3-keep', [CompletionResultType]::ParameterName, 'POP3: keep mail on the server after download (the default)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Accept invalid certificates (reported as a problem on every endpoint). Prefer --ca-file or --pin-sha256')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mailsetup;discover' {
            [CompletionResult]::new('--sources', '--sources', [CompletionResultType]::ParameterName, 'Only these sources (comma-separated): autoconfig, autoconfig-wellknown, ispdb, builtin-db, mx-ispdb, mx-builtin-db, srv, autodiscover, guess')
            [CompletionResult]::new('--trust-host', '--trust-host', [CompletionResultType]::ParameterName, 'Vouch for a discovered host the trust policy does not trust (outside the address''s domain, named by DNS, plain HTTP or Autodiscover): it may then receive the password and be recommended and written (repeatable)')
            [CompletionResult]::new('--protocols', '--protocols', [CompletionResultType]::ParameterName, 'Only these protocols (comma-separated: imap,pop3,smtp)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Overall deadline in seconds')
            [CompletionResult]::new('--connect-to', '--connect-to', [CompletionResultType]::ParameterName, 'Connect to TARGET_HOST:TARGET_PORT instead of HOST:PORT (curl''s syntax, repeatable; TLS still checks the certificate against HOST). Test a new server before a DNS change')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'Extra trusted CA certificates (PEM), on top of the system store (repeatable)')
            [CompletionResult]::new('--pin-sha256', '--pin-sha256', [CompletionResultType]::ParameterName, 'Accept only a mail server certificate matching this pin (curl''s --pinnedpubkey): the certificate''s SHA-256 (64 hex digits, colons allowed) or its public key''s SHA-256 in base64 (RFC 7469, also written sha256//BASE64). The CA chain is then not required; a certificate matching no pin is refused even when a CA vouches for it. Repeatable, or several separated by '';''')
            [CompletionResult]::new('--dns-server', '--dns-server', [CompletionResultType]::ParameterName, 'DNS server for every lookup (discovery and connections), e.g. 127.0.0.1:5353; default: the system resolver')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--html', '--html', [CompletionResultType]::ParameterName, 'Also write a self-contained HTML report to FILE (verdict, problems and what to do, timing waterfall, certificates, discovery; no password; no external resources)')
            [CompletionResult]::new('--warn-cert-days', '--warn-cert-days', [CompletionResultType]::ParameterName, 'WARNING when a certificate has fewer days left than this')
            [CompletionResult]::new('--crit-cert-days', '--crit-cert-days', [CompletionResultType]::ParameterName, 'CRITICAL when a certificate has fewer days left than this')
            [CompletionResult]::new('--warn-quota', '--warn-quota', [CompletionResultType]::ParameterName, 'WARNING when more than this percentage of the mailbox quota is used')
            [CompletionResult]::new('--crit-quota', '--crit-quota', [CompletionResultType]::ParameterName, 'CRITICAL when more than this percentage of the mailbox quota is used')
            [CompletionResult]::new('--warn-time', '--warn-time', [CompletionResultType]::ParameterName, 'WARNING when the whole run takes longer than this many seconds')
            [CompletionResult]::new('--crit-time', '--crit-time', [CompletionResultType]::ParameterName, 'CRITICAL when the whole run takes longer than this many seconds')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Use only the built-in provider database: no network access at all')
            [CompletionResult]::new('--no-guess', '--no-guess', [CompletionResultType]::ParameterName, 'Don''t guess host names (imap.DOMAIN, mail.DOMAIN, ...) when nothing else finds servers')
            [CompletionResult]::new('--trust-mx', '--trust-mx', [CompletionResultType]::ParameterName, 'Confirm the provider found through the domain''s MX record (a custom domain hosted by a provider): its servers may then receive the password and be recommended and written')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Accept invalid certificates (reported as a problem on every endpoint). Prefer --ca-file or --pin-sha256')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Shorthand for --format json')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Protocol trace on stderr (secrets redacted)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Protocol trace on stderr (secrets redacted)')
            [CompletionResult]::new('--timings', '--timings', [CompletionResultType]::ParameterName, 'Human output: also print the timing waterfall (every phase of every endpoint and lookup)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mailsetup;setup' {
            [CompletionResult]::new('--email', '--email', [CompletionResultType]::ParameterName, 'Your email address (asked when missing)')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Your name as it should appear in sent mail (asked when missing)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Use these servers instead of discovering them (repeatable URLs, as `check --server`)')
            [CompletionResult]::new('--client', '--client', [CompletionResultType]::ParameterName, 'Mail clients to write configs for (repeatable; default: ask, offering the installed ones)')
            [CompletionResult]::new('--prefer', '--prefer', [CompletionResultType]::ParameterName, 'IMAP or POP3 when both work (default: ask; IMAP with --yes)')
            [CompletionResult]::new('--sources', '--sources', [CompletionResultType]::ParameterName, 'Only these sources (comma-separated): autoconfig, autoconfig-wellknown, ispdb, builtin-db, mx-ispdb, mx-builtin-db, srv, autodiscover, guess')
            [CompletionResult]::new('--trust-host', '--trust-host', [CompletionResultType]::ParameterName, 'Vouch for a discovered host the trust policy does not trust (outside the address''s domain, named by DNS, plain HTTP or Autodiscover): it may then receive the password and be recommended and written (repeatable)')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'User name for login (default: the full email address)')
            [CompletionResult]::new('--password-command', '--password-command', [CompletionResultType]::ParameterName, 'Run CMD with `sh -c` and use the first line of its output as the password')
            [CompletionResult]::new('--password-env', '--password-env', [CompletionResultType]::ParameterName, 'Read the password from environment variable VAR')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the password from the first line of PATH (- reads standard input)')
            [CompletionResult]::new('--oauth2-token-command', '--oauth2-token-command', [CompletionResultType]::ParameterName, 'Run CMD with `sh -c`; its first output line is an OAuth2 access token (XOAUTH2/OAUTHBEARER)')
            [CompletionResult]::new('--oauth2-flow', '--oauth2-flow', [CompletionResultType]::ParameterName, 'OAuth2 sign-in when the provider uses it: browser (PKCE) or device code')
            [CompletionResult]::new('--oauth2-client-id', '--oauth2-client-id', [CompletionResultType]::ParameterName, 'OAuth2 client ID registered with the provider (remembered per provider)')
            [CompletionResult]::new('--oauth2-client-secret', '--oauth2-client-secret', [CompletionResultType]::ParameterName, 'The client secret the provider issued with the client ID, if any (installed-application secrets are not confidential; remembered with the ID in a 0600 file)')
            [CompletionResult]::new('--oauth2-issuer', '--oauth2-issuer', [CompletionResultType]::ParameterName, 'The authorization server''s issuer URL, for providers the built-in database does not know')
            [CompletionResult]::new('--oauth2-scope', '--oauth2-scope', [CompletionResultType]::ParameterName, 'Scopes to ask for (space-separated; default: the provider''s mail scope)')
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Directory to write the files into, to copy them yourself (`-` prints them to stdout); `write` defaults to `.`, `setup` installs unless this is given')
            [CompletionResult]::new('--store-password', '--store-password', [CompletionResultType]::ParameterName, 'Keep the password in this store (keyring, pass, or file: a private file) and let the configs read it back with `mailsetup password get`')
            [CompletionResult]::new('--pop3-keep-days', '--pop3-keep-days', [CompletionResultType]::ParameterName, 'POP3: delete mail from the server this many days after download')
            [CompletionResult]::new('--maildir', '--maildir', [CompletionResultType]::ParameterName, 'Local Maildir for fetching clients (mbsync, mpop, getmail, OfflineIMAP, …)')
            [CompletionResult]::new('--protocols', '--protocols', [CompletionResultType]::ParameterName, 'Only these protocols (comma-separated: imap,pop3,smtp)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Overall deadline in seconds')
            [CompletionResult]::new('--connect-to', '--connect-to', [CompletionResultType]::ParameterName, 'Connect to TARGET_HOST:TARGET_PORT instead of HOST:PORT (curl''s syntax, repeatable; TLS still checks the certificate against HOST). Test a new server before a DNS change')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'Extra trusted CA certificates (PEM), on top of the system store (repeatable)')
            [CompletionResult]::new('--pin-sha256', '--pin-sha256', [CompletionResultType]::ParameterName, 'Accept only a mail server certificate matching this pin (curl''s --pinnedpubkey): the certificate''s SHA-256 (64 hex digits, colons allowed) or its public key''s SHA-256 in base64 (RFC 7469, also written sha256//BASE64). The CA chain is then not required; a certificate matching no pin is refused even when a CA vouches for it. Repeatable, or several separated by '';''')
            [CompletionResult]::new('--dns-server', '--dns-server', [CompletionResultType]::ParameterName, 'DNS server for every lookup (discovery and connections), e.g. 127.0.0.1:5353; default: the system resolver')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer every question with its flag or default; never prompt (for scripts)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer every question with its flag or default; never prompt (for scripts)')
            [CompletionResult]::new('--round-trip', '--round-trip', [CompletionResultType]::ParameterName, 'Send a test message to yourself after the check and watch it arrive (asked when interactive; the message is deleted again)')
            [CompletionResult]::new('--no-guess', '--no-guess', [CompletionResultType]::ParameterName, 'Don''t guess host names (imap.DOMAIN, mail.DOMAIN, ...) when nothing else finds servers')
            [CompletionResult]::new('--trust-mx', '--trust-mx', [CompletionResultType]::ParameterName, 'Confirm the provider found through the domain''s MX record (a custom domain hosted by a provider): its servers may then receive the password and be recommended and written')
            [CompletionResult]::new('--oauth2', '--oauth2', [CompletionResultType]::ParameterName, 'Log in with the OAuth2 sign-in stored by `mailsetup oauth2 login` (the default when one is stored for the address and no other credential is given)')
            [CompletionResult]::new('--install', '--install', [CompletionResultType]::ParameterName, 'Install each file where its client looks (e.g. ~/.mbsyncrc): a new file, or a marked block added to (or replaced in) an existing one — nothing else in it changes, the old version is kept as FILE.bak — and the directories the client needs')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would be written, write nothing')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace existing files (the old one is kept as FILE.bak)')
            [CompletionResult]::new('--embed-password', '--embed-password', [CompletionResultType]::ParameterName, 'Write the password itself into the files (mode 0600) instead of a password command')
            [CompletionResult]::new('--pop3-delete', '--pop3-delete', [CompletionResultType]::ParameterName, 'POP3: delete mail from the server after download (default: keep it there)')
            [CompletionResult]::new('--pop3-keep', '--pop3-keep', [CompletionResultType]::ParameterName, 'POP3: keep mail on the server after download (the default)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Accept invalid certificates (reported as a problem on every endpoint). Prefer --ca-file or --pin-sha256')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mailsetup;password' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Store a secret (read from a no-echo prompt, or from the first line of standard input)')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Print the secret on standard output (nothing else); exit 3 when absent, 4 when the store is locked or unavailable')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Remove the secret; exit 3 when there was none')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mailsetup;password;set' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'keyring (Secret Service / macOS Keychain), pass, or file (mode 0600). Default for set: keyring, else pass; for get and delete: every usable store, in that order')
            [CompletionResult]::new('--kind', '--kind', [CompletionResultType]::ParameterName, 'What the secret is: password, or oauth2-refresh-token')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mailsetup;password;get' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'keyring (Secret Service / macOS Keychain), pass, or file (mode 0600). Default for set: keyring, else pass; for get and delete: every usable store, in that order')
            [CompletionResult]::new('--kind', '--kind', [CompletionResultType]::ParameterName, 'What the secret is: password, or oauth2-refresh-token')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mailsetup;password;delete' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'keyring (Secret Service / macOS Keychain), pass, or file (mode 0600). Default for set: keyring, else pass; for get and delete: every usable store, in that order')
            [CompletionResult]::new('--kind', '--kind', [CompletionResultType]::ParameterName, 'What the secret is: password, or oauth2-refresh-token')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mailsetup;password;help' {
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Store a secret (read from a no-echo prompt, or from the first line of standard input)')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Print the secret on standard output (nothing else); exit 3 when absent, 4 when the store is locked or unavailable')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Remove the secret; exit 3 when there was none')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mailsetup;password;help;set' {
            break
        }
        'mailsetup;password;help;get' {
            break
        }
        'mailsetup;password;help;delete' {
            break
        }
        'mailsetup;password;help;help' {
            break
        }
        'mailsetup;fetchmail' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mailsetup;deliver' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mailsetup;oauth2' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('login', 'login', [CompletionResultType]::ParameterValue, 'Sign in with the provider (browser with PKCE, or a device code) and store the tokens')
            [CompletionResult]::new('token', 'token', [CompletionResultType]::ParameterValue, 'Print a fresh access token for ADDRESS on stdout (the command mail clients run)')
            [CompletionResult]::new('logout', 'logout', [CompletionResultType]::ParameterValue, 'Revoke the sign-in at the provider (where supported) and delete what is stored')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mailsetup;oauth2;login' {
            [CompletionResult]::new('--oauth2-client-id', '--oauth2-client-id', [CompletionResultType]::ParameterName, 'OAuth2 client ID registered with the provider (remembered per provider)')
            [CompletionResult]::new('--oauth2-client-secret', '--oauth2-client-secret', [CompletionResultType]::ParameterName, 'The client secret the provider issued with the client ID, if any (installed-application secrets are not confidential; remembered with the ID in a 0600 file)')
            [CompletionResult]::new('--oauth2-issuer', '--oauth2-issuer', [CompletionResultType]::ParameterName, 'The authorization server''s issuer URL, for providers the built-in database does not know')
            [CompletionResult]::new('--oauth2-scope', '--oauth2-scope', [CompletionResultType]::ParameterName, 'Scopes to ask for (space-separated; default: the provider''s mail scope)')
            [CompletionResult]::new('--flow', '--flow', [CompletionResultType]::ParameterName, 'How to sign in')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'The login name the mail servers expect (default: the email address)')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'Extra trusted CA certificates (PEM) for the provider''s HTTPS endpoints (remembered for this account''s token refreshes)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the sign-in to be completed')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Where to keep the refresh token: keyring (Secret Service / macOS Keychain), pass, or file (mode 0600, next to the account). Default: keyring, else pass, else the file')
            [CompletionResult]::new('--no-browser', '--no-browser', [CompletionResultType]::ParameterName, 'Don''t start a browser; print the address to open instead')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mailsetup;oauth2;token' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mailsetup;oauth2;logout' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mailsetup;oauth2;help' {
            [CompletionResult]::new('login', 'login', [CompletionResultType]::ParameterValue, 'Sign in with the provider (browser with PKCE, or a device code) and store the tokens')
            [CompletionResult]::new('token', 'token', [CompletionResultType]::ParameterValue, 'Print a fresh access token for ADDRESS on stdout (the command mail clients run)')
            [CompletionResult]::new('logout', 'logout', [CompletionResultType]::ParameterValue, 'Revoke the sign-in at the provider (where supported) and delete what is stored')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mailsetup;oauth2;help;login' {
            break
        }
        'mailsetup;oauth2;help;token' {
            break
        }
        'mailsetup;oauth2;help;logout' {
            break
        }
        'mailsetup;oauth2;help;help' {
            break
        }
        'mailsetup;help' {
            [CompletionResult]::new('probe', 'probe', [CompletionResultType]::ParameterValue, 'Probe a server''s six standard endpoints at once (no login)')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Verify login on IMAP, POP3 and SMTP, and report the storage quota')
            [CompletionResult]::new('write', 'write', [CompletionResultType]::ParameterValue, 'Write working account configs for mail clients (`--list` shows them)')
            [CompletionResult]::new('discover', 'discover', [CompletionResultType]::ParameterValue, 'Find an address''s mail servers: provider database, autoconfig, MX, SRV, Autodiscover, guesses')
            [CompletionResult]::new('setup', 'setup', [CompletionResultType]::ParameterValue, 'The wizard: from "I have an address and a password" to a working mail client')
            [CompletionResult]::new('password', 'password', [CompletionResultType]::ParameterValue, 'Keep a password (or OAuth2 token) in the secret store; mail clients read it back with `password get`')
            [CompletionResult]::new('fetchmail', 'fetchmail', [CompletionResultType]::ParameterValue, 'Run fetchmail with the passwords its mailsetup entries name (it can''t run a password command itself)')
            [CompletionResult]::new('deliver', 'deliver', [CompletionResultType]::ParameterValue, 'Deliver one message from standard input into a Maildir (fetchmail''s mda)')
            [CompletionResult]::new('oauth2', 'oauth2', [CompletionResultType]::ParameterValue, 'OAuth2 accounts: sign in (browser or device code), print fresh tokens, sign out')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mailsetup;help;probe' {
            break
        }
        'mailsetup;help;check' {
            break
        }
        'mailsetup;help;write' {
            break
        }
        'mailsetup;help;discover' {
            break
        }
        'mailsetup;help;setup' {
            break
        }
        'mailsetup;help;password' {
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Store a secret (read from a no-echo prompt, or from the first line of standard input)')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Print the secret on standard output (nothing else); exit 3 when absent, 4 when the store is locked or unavailable')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Remove the secret; exit 3 when there was none')
            break
        }
        'mailsetup;help;password;set' {
            break
        }
        'mailsetup;help;password;get' {
            break
        }
        'mailsetup;help;password;delete' {
            break
        }
        'mailsetup;help;fetchmail' {
            break
        }
        'mailsetup;help;deliver' {
            break
        }
        'mailsetup;help;oauth2' {
            [CompletionResult]::new('login', 'login', [CompletionResultType]::ParameterValue, 'Sign in with the provider (browser with PKCE, or a device code) and store the tokens')
            [CompletionResult]::new('token', 'token', [CompletionResultType]::ParameterValue, 'Print a fresh access token for ADDRESS on stdout (the command mail clients run)')
            [CompletionResult]::new('logout', 'logout', [CompletionResultType]::ParameterValue, 'Revoke the sign-in at the provider (where supported) and delete what is stored')
            break
        }
        'mailsetup;help;oauth2;login' {
            break
        }
        'mailsetup;help;oauth2;token' {
            break
        }
        'mailsetup;help;oauth2;logout' {
            break
        }
        'mailsetup;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
