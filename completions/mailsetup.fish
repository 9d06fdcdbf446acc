# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_mailsetup_global_optspecs
    string join \n h/help V/version
end

function __fish_mailsetup_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_mailsetup_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_mailsetup_using_subcommand
    set -l cmd (__fish_mailsetup_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c mailsetup -n "__fish_mailsetup_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mailsetup -n "__fish_mailsetup_needs_command" -s V -l version -d 'Print version'
complete -c mailsetup -n "__fish_mailsetup_needs_command" -f -a "probe" -d 'Probe a server\'s six standard endpoints at once (no login)'
complete -c mailsetup -n "__fish_mailsetup_needs_command" -f -a "check" -d 'Verify login on IMAP, POP3 and SMTP, and report the storage quota'
complete -c mailsetup -n "__fish_mailsetup_needs_command" -f -a "write" -d 'Write working account configs for mail clients (`--list` shows them)'
complete -c mailsetup -n "__fish_mailsetup_needs_command" -f -a "discover" -d 'Find an address\'s mail servers: provider database, autoconfig, MX, SRV, Autodiscover, guesses'
complete -c mailsetup -n "__fish_mailsetup_needs_command" -f -a "setup" -d 'The wizard: from "I have an address and a password" to a working mail client'
complete -c mailsetup -n "__fish_mailsetup_needs_command" -f -a "password" -d 'Keep a password (or OAuth2 token) in the secret store; mail clients read it back with `password get`'
complete -c mailsetup -n "__fish_mailsetup_needs_command" -f -a "fetchmail" -d 'Run fetchmail with the passwords its mailsetup entries name (it can\'t run a password command itself)'
complete -c mailsetup -n "__fish_mailsetup_needs_command" -f -a "deliver" -d 'Deliver one message from standard input into a Maildir (fetchmail\'s mda)'
complete -c mailsetup -n "__fish_mailsetup_needs_command" -f -a "oauth2" -d 'OAuth2 accounts: sign in (browser or device code), print fresh tokens, sign out'
complete -c mailsetup -n "__fish_mailsetup_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand probe" -l server -d 'Probe exactly this endpoint instead (repeatable): imaps://h:993, imap://h:143 (STARTTLS), pop3s://, pop3://, smtps://, smtp:// and the +plain variants (imap+plain://h:143) for servers without TLS' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand probe" -l protocols -d 'Only these protocols (comma-separated: imap,pop3,smtp)' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand probe" -l timeout -d 'Overall deadline in seconds' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand probe" -l connect-to -d 'Connect to TARGET_HOST:TARGET_PORT instead of HOST:PORT (curl\'s syntax, repeatable; TLS still checks the certificate against HOST). Test a new server before a DNS change' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand probe" -l ca-file -d 'Extra trusted CA certificates (PEM), on top of the system store (repeatable)' -r -F
complete -c mailsetup -n "__fish_mailsetup_using_subcommand probe" -l pin-sha256 -d 'Accept only a mail server certificate matching this pin (curl\'s --pinnedpubkey): the certificate\'s SHA-256 (64 hex digits, colons allowed) or its public key\'s SHA-256 in base64 (RFC 7469, also written sha256//BASE64). The CA chain is then not required; a certificate matching no pin is refused even when a CA vouches for it. Repeatable, or several separated by \';\'' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand probe" -l dns-server -d 'DNS server for every lookup (discovery and connections), e.g. 127.0.0.1:5353; default: the system resolver' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand probe" -l format -d 'Output format' -r -f -a "human\t''
json\t''
nagios\t'Monitoring plugin (Nagios, Icinga, Naemon): status line, perfdata, exit 0/1/2/3'
prometheus\t'Prometheus text format for node_exporter\'s textfile collector'"
complete -c mailsetup -n "__fish_mailsetup_using_subcommand probe" -l html -d 'Also write a self-contained HTML report to FILE (verdict, problems and what to do, timing waterfall, certificates, discovery; no password; no external resources)' -r -F
complete -c mailsetup -n "__fish_mailsetup_using_subcommand probe" -l warn-cert-days -d 'WARNING when a certificate has fewer days left than this' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand probe" -l crit-cert-days -d 'CRITICAL when a certificate has fewer days left than this' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand probe" -l warn-quota -d 'WARNING when more than this percentage of the mailbox quota is used' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand probe" -l crit-quota -d 'CRITICAL when more than this percentage of the mailbox quota is used' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand probe" -l warn-time -d 'WARNING when the whole run takes longer than this many seconds' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand probe" -l crit-time -d 'CRITICAL when the whole run takes longer than this many seconds' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand probe" -l check-injection -d 'Also test each STARTTLS endpoint for STARTTLS command injection (CVE-2011-0411 class): a harmless command (NOOP/RSET) is pipelined with STARTTLS; a server that answers it inside TLS is vulnerable. Never uses credentials'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand probe" -l strict -d 'Every probed endpoint counts for the exit status (for monitoring a server): a refused standard port is then an error too'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand probe" -l insecure -d 'Accept invalid certificates (reported as a problem on every endpoint). Prefer --ca-file or --pin-sha256'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand probe" -l json -d 'Shorthand for --format json'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand probe" -s v -l verbose -d 'Protocol trace on stderr (secrets redacted)'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand probe" -l timings -d 'Human output: also print the timing waterfall (every phase of every endpoint and lookup)'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand probe" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand probe" -s V -l version -d 'Print version'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l server -d 'Check exactly this endpoint (repeatable); same URL forms as `probe --server`' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l username -d 'User name for login (default: the full email address)' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l password-command -d 'Run CMD with `sh -c` and use the first line of its output as the password' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l password-env -d 'Read the password from environment variable VAR' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l password-file -d 'Read the password from the first line of PATH (- reads standard input)' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l oauth2-token-command -d 'Run CMD with `sh -c`; its first output line is an OAuth2 access token (XOAUTH2/OAUTHBEARER)' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l prefer -d 'Incoming protocol to recommend when both work' -r -f -a "imap\t'Mail stays on the server; several devices see the same mailbox'
pop3\t'Mail is downloaded to one device'"
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l name -d 'Your name as it should appear in sent mail (used in the recommended settings)' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l sources -d 'Only these sources (comma-separated): autoconfig, autoconfig-wellknown, ispdb, builtin-db, mx-ispdb, mx-builtin-db, srv, autodiscover, guess' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l trust-host -d 'Vouch for a discovered host the trust policy does not trust (outside the address\'s domain, named by DNS, plain HTTP or Autodiscover): it may then receive the password and be recommended and written (repeatable)' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l round-trip-timeout -d 'How long the test message may take to arrive, in seconds' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l round-trip-to -d 'Send the test message to this address instead (another mailbox, an autoresponder) and only report whether the server accepted it; implies --round-trip' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l write -d 'After a successful check, write configs for these mail clients from the recommended settings (repeatable; see `mailsetup write --list`)' -r -f -a "thunderbird\t'Thunderbird (autoconfig file config-v1.1.xml)'
apple-mail\t'Apple Mail on macOS and iOS (.mobileconfig profile)'
outlook\t'Outlook (Autodiscover POX response to serve)'
k9\t'K-9 Mail / Thunderbird for Android (.k9s settings import)'
neomutt\t'NeoMutt (neomuttrc)'
mutt\t'Mutt (muttrc)'
aerc\t'aerc (accounts.conf)'
himalaya\t'Himalaya CLI (config.toml, v2 schema; a v1 file too)'
mbsync\t'isync/mbsync IMAP to Maildir sync (.mbsyncrc, isync 1.4 and 1.5)'
msmtp\t'msmtp SMTP sender (.msmtprc)'
mpop\t'mpop POP3 to Maildir fetcher (.mpoprc)'
fetchmail\t'fetchmail (.fetchmailrc, 6.4 or later)'
getmail\t'getmail6 (getmailrc)'
offlineimap\t'OfflineIMAP 3 IMAP to Maildir sync (.offlineimaprc)'
claws-mail\t'Claws Mail (accountrc section to merge)'
evolution\t'GNOME Evolution (ESource .source files)'"
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l out -d 'Directory to write the files into, to copy them yourself (`-` prints them to stdout); `write` defaults to `.`, `setup` installs unless this is given' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l store-password -d 'Keep the password in this store (keyring, pass, or file: a private file) and let the configs read it back with `mailsetup password get`' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l pop3-keep-days -d 'POP3: delete mail from the server this many days after download' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l maildir -d 'Local Maildir for fetching clients (mbsync, mpop, getmail, OfflineIMAP, …)' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l protocols -d 'Only these protocols (comma-separated: imap,pop3,smtp)' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l timeout -d 'Overall deadline in seconds' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l connect-to -d 'Connect to TARGET_HOST:TARGET_PORT instead of HOST:PORT (curl\'s syntax, repeatable; TLS still checks the certificate against HOST). Test a new server before a DNS change' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l ca-file -d 'Extra trusted CA certificates (PEM), on top of the system store (repeatable)' -r -F
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l pin-sha256 -d 'Accept only a mail server certificate matching this pin (curl\'s --pinnedpubkey): the certificate\'s SHA-256 (64 hex digits, colons allowed) or its public key\'s SHA-256 in base64 (RFC 7469, also written sha256//BASE64). The CA chain is then not required; a certificate matching no pin is refused even when a CA vouches for it. Repeatable, or several separated by \';\'' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l dns-server -d 'DNS server for every lookup (discovery and connections), e.g. 127.0.0.1:5353; default: the system resolver' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l format -d 'Output format' -r -f -a "human\t''
json\t''
nagios\t'Monitoring plugin (Nagios, Icinga, Naemon): status line, perfdata, exit 0/1/2/3'
prometheus\t'Prometheus text format for node_exporter\'s textfile collector'"
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l html -d 'Also write a self-contained HTML report to FILE (verdict, problems and what to do, timing waterfall, certificates, discovery; no password; no external resources)' -r -F
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l warn-cert-days -d 'WARNING when a certificate has fewer days left than this' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l crit-cert-days -d 'CRITICAL when a certificate has fewer days left than this' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l warn-quota -d 'WARNING when more than this percentage of the mailbox quota is used' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l crit-quota -d 'CRITICAL when more than this percentage of the mailbox quota is used' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l warn-time -d 'WARNING when the whole run takes longer than this many seconds' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l crit-time -d 'CRITICAL when the whole run takes longer than this many seconds' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l oauth2 -d 'Log in with the OAuth2 sign-in stored by `mailsetup oauth2 login` (the default when one is stored for the address and no other credential is given)'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l all-mechanisms -d 'Try every offered login mechanism and report each (does "encrypted password" work?)'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l allow-plaintext-login -d 'Allow sending credentials to a +plain endpoint (readable by anyone on the network)'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l strict -d 'Every checked endpoint counts for the exit status (for monitoring a server): an error on any discovered server, or a refused port, fails the run'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l no-guess -d 'Don\'t guess host names (imap.DOMAIN, mail.DOMAIN, ...) when nothing else finds servers'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l trust-mx -d 'Confirm the provider found through the domain\'s MX record (a custom domain hosted by a provider): its servers may then receive the password and be recommended and written'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l round-trip -d 'After the logins verified, send a test message to yourself through the recommended outgoing server, watch it arrive on the recommended incoming server, then delete it'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l install -d 'Install each file where its client looks (e.g. ~/.mbsyncrc): a new file, or a marked block added to (or replaced in) an existing one — nothing else in it changes, the old version is kept as FILE.bak — and the directories the client needs'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l dry-run -d 'Show what would be written, write nothing'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l force -d 'Replace existing files (the old one is kept as FILE.bak)'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l embed-password -d 'Write the password itself into the files (mode 0600) instead of a password command'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l pop3-delete -d 'POP3: delete mail from the server after download (default: keep it there)'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l pop3-keep -d 'POP3: keep mail on the server after download (the default)'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l insecure -d 'Accept invalid certificates (reported as a problem on every endpoint). Prefer --ca-file or --pin-sha256'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l json -d 'Shorthand for --format json'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -s v -l verbose -d 'Protocol trace on stderr (secrets redacted)'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -l timings -d 'Human output: also print the timing waterfall (every phase of every endpoint and lookup)'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand check" -s V -l version -d 'Print version'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand write" -l from -d 'Take the settings from a saved `mailsetup check --json` report' -r -F
complete -c mailsetup -n "__fish_mailsetup_using_subcommand write" -l email -d 'The account\'s address. With --server the servers are used as given (no network); alone, a check runs first and its verified settings are written' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand write" -l server -d 'Server URLs to configure (imaps://h:993, smtps://h:465, ...), with --email' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand write" -l name -d 'Your name as it should appear in sent mail' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand write" -l prefer -d 'Incoming protocol to use when both work (with --email)' -r -f -a "imap\t'Mail stays on the server; several devices see the same mailbox'
pop3\t'Mail is downloaded to one device'"
complete -c mailsetup -n "__fish_mailsetup_using_subcommand write" -l sources -d 'Only these sources (comma-separated): autoconfig, autoconfig-wellknown, ispdb, builtin-db, mx-ispdb, mx-builtin-db, srv, autodiscover, guess' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand write" -l trust-host -d 'Vouch for a discovered host the trust policy does not trust (outside the address\'s domain, named by DNS, plain HTTP or Autodiscover): it may then receive the password and be recommended and written (repeatable)' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand write" -l username -d 'User name for login (default: the full email address)' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand write" -l password-command -d 'Run CMD with `sh -c` and use the first line of its output as the password' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand write" -l password-env -d 'Read the password from environment variable VAR' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand write" -l password-file -d 'Read the password from the first line of PATH (- reads standard input)' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand write" -l oauth2-token-command -d 'Run CMD with `sh -c`; its first output line is an OAuth2 access token (XOAUTH2/OAUTHBEARER)' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand write" -l out -d 'Directory to write the files into, to copy them yourself (`-` prints them to stdout); `write` defaults to `.`, `setup` installs unless this is given' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand write" -l store-password -d 'Keep the password in this store (keyring, pass, or file: a private file) and let the configs read it back with `mailsetup password get`' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand write" -l pop3-keep-days -d 'POP3: delete mail from the server this many days after download' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand write" -l maildir -d 'Local Maildir for fetching clients (mbsync, mpop, getmail, OfflineIMAP, …)' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand write" -l protocols -d 'Only these protocols (comma-separated: imap,pop3,smtp)' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand write" -l timeout -d 'Overall deadline in seconds' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand write" -l connect-to -d 'Connect to TARGET_HOST:TARGET_PORT instead of HOST:PORT (curl\'s syntax, repeatable; TLS still checks the certificate against HOST). Test a new server before a DNS change' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand write" -l ca-file -d 'Extra trusted CA certificates (PEM), on top of the system store (repeatable)' -r -F
complete -c mailsetup -n "__fish_mailsetup_using_subcommand write" -l pin-sha256 -d 'Accept only a mail server certificate matching this pin (curl\'s --pinnedpubkey): the certificate\'s SHA-256 (64 hex digits, colons allowed) or its public key\'s SHA-256 in base64 (RFC 7469, also written sha256//BASE64). The CA chain is then not required; a certificate matching no pin is refused even when a CA vouches for it. Repeatable, or several separated by \';\'' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand write" -l dns-server -d 'DNS server for every lookup (discovery and connections), e.g. 127.0.0.1:5353; default: the system resolver' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand write" -l list -d 'List the supported mail clients (installed ones marked) and exit'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand write" -l no-guess -d 'Don\'t guess host names (imap.DOMAIN, mail.DOMAIN, ...) when nothing else finds servers'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand write" -l trust-mx -d 'Confirm the provider found through the domain\'s MX record (a custom domain hosted by a provider): its servers may then receive the password and be recommended and written'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand write" -l oauth2 -d 'Log in with the OAuth2 sign-in stored by `mailsetup oauth2 login` (the default when one is stored for the address and no other credential is given)'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand write" -l install -d 'Install each file where its client looks (e.g. ~/.mbsyncrc): a new file, or a marked block added to (or replaced in) an existing one — nothing else in it changes, the old version is kept as FILE.bak — and the directories the client needs'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand write" -l dry-run -d 'Show what would be written, write nothing'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand write" -l force -d 'Replace existing files (the old one is kept as FILE.bak)'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand write" -l embed-password -d 'Write the password itself into the files (mode 0600) instead of a password command'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand write" -l pop3-delete -d 'POP3: delete mail from the server after download (default: keep it there)'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand write" -l pop3-keep -d 'POP3: keep mail on the server after download (the default)'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand write" -l insecure -d 'Accept invalid certificates (reported as a problem on every endpoint). Prefer --ca-file or --pin-sha256'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand write" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand write" -s V -l version -d 'Print version'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand discover" -l sources -d 'Only these sources (comma-separated): autoconfig, autoconfig-wellknown, ispdb, builtin-db, mx-ispdb, mx-builtin-db, srv, autodiscover, guess' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand discover" -l trust-host -d 'Vouch for a discovered host the trust policy does not trust (outside the address\'s domain, named by DNS, plain HTTP or Autodiscover): it may then receive the password and be recommended and written (repeatable)' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand discover" -l protocols -d 'Only these protocols (comma-separated: imap,pop3,smtp)' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand discover" -l timeout -d 'Overall deadline in seconds' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand discover" -l connect-to -d 'Connect to TARGET_HOST:TARGET_PORT instead of HOST:PORT (curl\'s syntax, repeatable; TLS still checks the certificate against HOST). Test a new server before a DNS change' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand discover" -l ca-file -d 'Extra trusted CA certificates (PEM), on top of the system store (repeatable)' -r -F
complete -c mailsetup -n "__fish_mailsetup_using_subcommand discover" -l pin-sha256 -d 'Accept only a mail server certificate matching this pin (curl\'s --pinnedpubkey): the certificate\'s SHA-256 (64 hex digits, colons allowed) or its public key\'s SHA-256 in base64 (RFC 7469, also written sha256//BASE64). The CA chain is then not required; a certificate matching no pin is refused even when a CA vouches for it. Repeatable, or several separated by \';\'' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand discover" -l dns-server -d 'DNS server for every lookup (discovery and connections), e.g. 127.0.0.1:5353; default: the system resolver' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand discover" -l format -d 'Output format' -r -f -a "human\t''
json\t''
nagios\t'Monitoring plugin (Nagios, Icinga, Naemon): status line, perfdata, exit 0/1/2/3'
prometheus\t'Prometheus text format for node_exporter\'s textfile collector'"
complete -c mailsetup -n "__fish_mailsetup_using_subcommand discover" -l html -d 'Also write a self-contained HTML report to FILE (verdict, problems and what to do, timing waterfall, certificates, discovery; no password; no external resources)' -r -F
complete -c mailsetup -n "__fish_mailsetup_using_subcommand discover" -l warn-cert-days -d 'WARNING when a certificate has fewer days left than this' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand discover" -l crit-cert-days -d 'CRITICAL when a certificate has fewer days left than this' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand discover" -l warn-quota -d 'WARNING when more than this percentage of the mailbox quota is used' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand discover" -l crit-quota -d 'CRITICAL when more than this percentage of the mailbox quota is used' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand discover" -l warn-time -d 'WARNING when the whole run takes longer than this many seconds' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand discover" -l crit-time -d 'CRITICAL when the whole run takes longer than this many seconds' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand discover" -l offline -d 'Use only the built-in provider database: no network access at all'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand discover" -l no-guess -d 'Don\'t guess host names (imap.DOMAIN, mail.DOMAIN, ...) when nothing else finds servers'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand discover" -l trust-mx -d 'Confirm the provider found through the domain\'s MX record (a custom domain hosted by a provider): its servers may then receive the password and be recommended and written'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand discover" -l insecure -d 'Accept invalid certificates (reported as a problem on every endpoint). Prefer --ca-file or --pin-sha256'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand discover" -l json -d 'Shorthand for --format json'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand discover" -s v -l verbose -d 'Protocol trace on stderr (secrets redacted)'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand discover" -l timings -d 'Human output: also print the timing waterfall (every phase of every endpoint and lookup)'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand discover" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand discover" -s V -l version -d 'Print version'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand setup" -l email -d 'Your email address (asked when missing)' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand setup" -l name -d 'Your name as it should appear in sent mail (asked when missing)' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand setup" -l server -d 'Use these servers instead of discovering them (repeatable URLs, as `check --server`)' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand setup" -l client -d 'Mail clients to write configs for (repeatable; default: ask, offering the installed ones)' -r -f -a "thunderbird\t'Thunderbird (autoconfig file config-v1.1.xml)'
apple-mail\t'Apple Mail on macOS and iOS (.mobileconfig profile)'
outlook\t'Outlook (Autodiscover POX response to serve)'
k9\t'K-9 Mail / Thunderbird for Android (.k9s settings import)'
neomutt\t'NeoMutt (neomuttrc)'
mutt\t'Mutt (muttrc)'
aerc\t'aerc (accounts.conf)'
himalaya\t'Himalaya CLI (config.toml, v2 schema; a v1 file too)'
mbsync\t'isync/mbsync IMAP to Maildir sync (.mbsyncrc, isync 1.4 and 1.5)'
msmtp\t'msmtp SMTP sender (.msmtprc)'
mpop\t'mpop POP3 to Maildir fetcher (.mpoprc)'
fetchmail\t'fetchmail (.fetchmailrc, 6.4 or later)'
getmail\t'getmail6 (getmailrc)'
offlineimap\t'OfflineIMAP 3 IMAP to Maildir sync (.offlineimaprc)'
claws-mail\t'Claws Mail (accountrc section to merge)'
evolution\t'GNOME Evolution (ESource .source files)'"
complete -c mailsetup -n "__fish_mailsetup_using_subcommand setup" -l prefer -d 'IMAP or POP3 when both work (default: ask; IMAP with --yes)' -r -f -a "imap\t'Mail stays on the server; several devices see the same mailbox'
pop3\t'Mail is downloaded to one device'"
complete -c mailsetup -n "__fish_mailsetup_using_subcommand setup" -l sources -d 'Only these sources (comma-separated): autoconfig, autoconfig-wellknown, ispdb, builtin-db, mx-ispdb, mx-builtin-db, srv, autodiscover, guess' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand setup" -l trust-host -d 'Vouch for a discovered host the trust policy does not trust (outside the address\'s domain, named by DNS, plain HTTP or Autodiscover): it may then receive the password and be recommended and written (repeatable)' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand setup" -l username -d 'User name for login (default: the full email address)' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand setup" -l password-command -d 'Run CMD with `sh -c` and use the first line of its output as the password' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand setup" -l password-env -d 'Read the password from environment variable VAR' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand setup" -l password-file -d 'Read the password from the first line of PATH (- reads standard input)' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand setup" -l oauth2-token-command -d 'Run CMD with `sh -c`; its first output line is an OAuth2 access token (XOAUTH2/OAUTHBEARER)' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand setup" -l oauth2-flow -d 'OAuth2 sign-in when the provider uses it: browser (PKCE) or device code' -r -f -a "auto\t'The browser when there is a graphical session, else the device code'
device\t'Show a web address and a code to enter on any device'
browser\t'Authorization code with PKCE through the browser and a 127.0.0.1 redirect'"
complete -c mailsetup -n "__fish_mailsetup_using_subcommand setup" -l oauth2-client-id -d 'OAuth2 client ID registered with the provider (remembered per provider)' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand setup" -l oauth2-client-secret -d 'The client secret the provider issued with the client ID, if any (installed-application secrets are not confidential; remembered with the ID in a 0600 file)' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand setup" -l oauth2-issuer -d 'The authorization server\'s issuer URL, for providers the built-in database does not know' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand setup" -l oauth2-scope -d 'Scopes to ask for (space-separated; default: the provider\'s mail scope)' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand setup" -l out -d 'Directory to write the files into, to copy them yourself (`-` prints them to stdout); `write` defaults to `.`, `setup` installs unless this is given' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand setup" -l store-password -d 'Keep the password in this store (keyring, pass, or file: a private file) and let the configs read it back with `mailsetup password get`' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand setup" -l pop3-keep-days -d 'POP3: delete mail from the server this many days after download' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand setup" -l maildir -d 'Local Maildir for fetching clients (mbsync, mpop, getmail, OfflineIMAP, …)' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand setup" -l protocols -d 'Only these protocols (comma-separated: imap,pop3,smtp)' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand setup" -l timeout -d 'Overall deadline in seconds' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand setup" -l connect-to -d 'Connect to TARGET_HOST:TARGET_PORT instead of HOST:PORT (curl\'s syntax, repeatable; TLS still checks the certificate against HOST). Test a new server before a DNS change' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand setup" -l ca-file -d 'Extra trusted CA certificates (PEM), on top of the system store (repeatable)' -r -F
complete -c mailsetup -n "__fish_mailsetup_using_subcommand setup" -l pin-sha256 -d 'Accept only a mail server certificate matching this pin (curl\'s --pinnedpubkey): the certificate\'s SHA-256 (64 hex digits, colons allowed) or its public key\'s SHA-256 in base64 (RFC 7469, also written sha256//BASE64). The CA chain is then not required; a certificate matching no pin is refused even when a CA vouches for it. Repeatable, or several separated by \';\'' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand setup" -l dns-server -d 'DNS server for every lookup (discovery and connections), e.g. 127.0.0.1:5353; default: the system resolver' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand setup" -s y -l yes -d 'Answer every question with its flag or default; never prompt (for scripts)'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand setup" -l round-trip -d 'Send a test message to yourself after the check and watch it arrive (asked when interactive; the message is deleted again)'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand setup" -l no-guess -d 'Don\'t guess host names (imap.DOMAIN, mail.DOMAIN, ...) when nothing else finds servers'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand setup" -l trust-mx -d 'Confirm the provider found through the domain\'s MX record (a custom domain hosted by a provider): its servers may then receive the password and be recommended and written'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand setup" -l oauth2 -d 'Log in with the OAuth2 sign-in stored by `mailsetup oauth2 login` (the default when one is stored for the address and no other credential is given)'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand setup" -l install -d 'Install each file where its client looks (e.g. ~/.mbsyncrc): a new file, or a marked block added to (or replaced in) an existing one — nothing else in it changes, the old version is kept as FILE.bak — and the directories the client needs'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand setup" -l dry-run -d 'Show what would be written, write nothing'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand setup" -l force -d 'Replace existing files (the old one is kept as FILE.bak)'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand setup" -l embed-password -d 'Write the password itself into the files (mode 0600) instead of a password command'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand setup" -l pop3-delete -d 'POP3: delete mail from the server after download (default: keep it there)'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand setup" -l pop3-keep -d 'POP3: keep mail on the server after download (the default)'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand setup" -l insecure -d 'Accept invalid certificates (reported as a problem on every endpoint). Prefer --ca-file or --pin-sha256'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand setup" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand setup" -s V -l version -d 'Print version'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand password; and not __fish_seen_subcommand_from set get delete help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand password; and not __fish_seen_subcommand_from set get delete help" -s V -l version -d 'Print version'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand password; and not __fish_seen_subcommand_from set get delete help" -f -a "set" -d 'Store a secret (read from a no-echo prompt, or from the first line of standard input)'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand password; and not __fish_seen_subcommand_from set get delete help" -f -a "get" -d 'Print the secret on standard output (nothing else); exit 3 when absent, 4 when the store is locked or unavailable'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand password; and not __fish_seen_subcommand_from set get delete help" -f -a "delete" -d 'Remove the secret; exit 3 when there was none'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand password; and not __fish_seen_subcommand_from set get delete help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand password; and __fish_seen_subcommand_from set" -l store -d 'keyring (Secret Service / macOS Keychain), pass, or file (mode 0600). Default for set: keyring, else pass; for get and delete: every usable store, in that order' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand password; and __fish_seen_subcommand_from set" -l kind -d 'What the secret is: password, or oauth2-refresh-token' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand password; and __fish_seen_subcommand_from set" -s h -l help -d 'Print help'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand password; and __fish_seen_subcommand_from set" -s V -l version -d 'Print version'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand password; and __fish_seen_subcommand_from get" -l store -d 'keyring (Secret Service / macOS Keychain), pass, or file (mode 0600). Default for set: keyring, else pass; for get and delete: every usable store, in that order' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand password; and __fish_seen_subcommand_from get" -l kind -d 'What the secret is: password, or oauth2-refresh-token' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand password; and __fish_seen_subcommand_from get" -s h -l help -d 'Print help'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand password; and __fish_seen_subcommand_from get" -s V -l version -d 'Print version'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand password; and __fish_seen_subcommand_from delete" -l store -d 'keyring (Secret Service / macOS Keychain), pass, or file (mode 0600). Default for set: keyring, else pass; for get and delete: every usable store, in that order' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand password; and __fish_seen_subcommand_from delete" -l kind -d 'What the secret is: password, or oauth2-refresh-token' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand password; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand password; and __fish_seen_subcommand_from delete" -s V -l version -d 'Print version'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand password; and __fish_seen_subcommand_from help" -f -a "set" -d 'Store a secret (read from a no-echo prompt, or from the first line of standard input)'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand password; and __fish_seen_subcommand_from help" -f -a "get" -d 'Print the secret on standard output (nothing else); exit 3 when absent, 4 when the store is locked or unavailable'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand password; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Remove the secret; exit 3 when there was none'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand password; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand fetchmail" -s h -l help -d 'Print help'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand fetchmail" -s V -l version -d 'Print version'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand deliver" -s h -l help -d 'Print help'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand deliver" -s V -l version -d 'Print version'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand oauth2; and not __fish_seen_subcommand_from login token logout help" -s h -l help -d 'Print help'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand oauth2; and not __fish_seen_subcommand_from login token logout help" -s V -l version -d 'Print version'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand oauth2; and not __fish_seen_subcommand_from login token logout help" -f -a "login" -d 'Sign in with the provider (browser with PKCE, or a device code) and store the tokens'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand oauth2; and not __fish_seen_subcommand_from login token logout help" -f -a "token" -d 'Print a fresh access token for ADDRESS on stdout (the command mail clients run)'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand oauth2; and not __fish_seen_subcommand_from login token logout help" -f -a "logout" -d 'Revoke the sign-in at the provider (where supported) and delete what is stored'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand oauth2; and not __fish_seen_subcommand_from login token logout help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand oauth2; and __fish_seen_subcommand_from login" -l oauth2-client-id -d 'OAuth2 client ID registered with the provider (remembered per provider)' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand oauth2; and __fish_seen_subcommand_from login" -l oauth2-client-secret -d 'The client secret the provider issued with the client ID, if any (installed-application secrets are not confidential; remembered with the ID in a 0600 file)' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand oauth2; and __fish_seen_subcommand_from login" -l oauth2-issuer -d 'The authorization server\'s issuer URL, for providers the built-in database does not know' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand oauth2; and __fish_seen_subcommand_from login" -l oauth2-scope -d 'Scopes to ask for (space-separated; default: the provider\'s mail scope)' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand oauth2; and __fish_seen_subcommand_from login" -l flow -d 'How to sign in' -r -f -a "auto\t'The browser when there is a graphical session, else the device code'
device\t'Show a web address and a code to enter on any device'
browser\t'Authorization code with PKCE through the browser and a 127.0.0.1 redirect'"
complete -c mailsetup -n "__fish_mailsetup_using_subcommand oauth2; and __fish_seen_subcommand_from login" -l username -d 'The login name the mail servers expect (default: the email address)' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand oauth2; and __fish_seen_subcommand_from login" -l ca-file -d 'Extra trusted CA certificates (PEM) for the provider\'s HTTPS endpoints (remembered for this account\'s token refreshes)' -r -F
complete -c mailsetup -n "__fish_mailsetup_using_subcommand oauth2; and __fish_seen_subcommand_from login" -l timeout -d 'Seconds to wait for the sign-in to be completed' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand oauth2; and __fish_seen_subcommand_from login" -l store -d 'Where to keep the refresh token: keyring (Secret Service / macOS Keychain), pass, or file (mode 0600, next to the account). Default: keyring, else pass, else the file' -r
complete -c mailsetup -n "__fish_mailsetup_using_subcommand oauth2; and __fish_seen_subcommand_from login" -l no-browser -d 'Don\'t start a browser; print the address to open instead'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand oauth2; and __fish_seen_subcommand_from login" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand oauth2; and __fish_seen_subcommand_from login" -s V -l version -d 'Print version'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand oauth2; and __fish_seen_subcommand_from token" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand oauth2; and __fish_seen_subcommand_from token" -s V -l version -d 'Print version'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand oauth2; and __fish_seen_subcommand_from logout" -s h -l help -d 'Print help'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand oauth2; and __fish_seen_subcommand_from logout" -s V -l version -d 'Print version'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand oauth2; and __fish_seen_subcommand_from help" -f -a "login" -d 'Sign in with the provider (browser with PKCE, or a device code) and store the tokens'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand oauth2; and __fish_seen_subcommand_from help" -f -a "token" -d 'Print a fresh access token for ADDRESS on stdout (the command mail clients run)'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand oauth2; and __fish_seen_subcommand_from help" -f -a "logout" -d 'Revoke the sign-in at the provider (where supported) and delete what is stored'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand oauth2; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand help; and not __fish_seen_subcommand_from probe check write discover setup password fetchmail deliver oauth2 help" -f -a "probe" -d 'Probe a server\'s six standard endpoints at once (no login)'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand help; and not __fish_seen_subcommand_from probe check write discover setup password fetchmail deliver oauth2 help" -f -a "check" -d 'Verify login on IMAP, POP3 and SMTP, and report the storage quota'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand help; and not __fish_seen_subcommand_from probe check write discover setup password fetchmail deliver oauth2 help" -f -a "write" -d 'Write working account configs for mail clients (`--list` shows them)'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand help; and not __fish_seen_subcommand_from probe check write discover setup password fetchmail deliver oauth2 help" -f -a "discover" -d 'Find an address\'s mail servers: provider database, autoconfig, MX, SRV, Autodiscover, guesses'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand help; and not __fish_seen_subcommand_from probe check write discover setup password fetchmail deliver oauth2 help" -f -a "setup" -d 'The wizard: from "I have an address and a password" to a working mail client'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand help; and not __fish_seen_subcommand_from probe check write discover setup password fetchmail deliver oauth2 help" -f -a "password" -d 'Keep a password (or OAuth2 token) in the secret store; mail clients read it back with `password get`'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand help; and not __fish_seen_subcommand_from probe check write discover setup password fetchmail deliver oauth2 help" -f -a "fetchmail" -d 'Run fetchmail with the passwords its mailsetup entries name (it can\'t run a password command itself)'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand help; and not __fish_seen_subcommand_from probe check write discover setup password fetchmail deliver oauth2 help" -f -a "deliver" -d 'Deliver one message from standard input into a Maildir (fetchmail\'s mda)'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand help; and not __fish_seen_subcommand_from probe check write discover setup password fetchmail deliver oauth2 help" -f -a "oauth2" -d 'OAuth2 accounts: sign in (browser or device code), print fresh tokens, sign out'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand help; and not __fish_seen_subcommand_from probe check write discover setup password fetchmail deliver oauth2 help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand help; and __fish_seen_subcommand_from password" -f -a "set" -d 'Store a secret (read from a no-echo prompt, or from the first line of standard input)'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand help; and __fish_seen_subcommand_from password" -f -a "get" -d 'Print the secret on standard output (nothing else); exit 3 when absent, 4 when the store is locked or unavailable'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand help; and __fish_seen_subcommand_from password" -f -a "delete" -d 'Remove the secret; exit 3 when there was none'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand help; and __fish_seen_subcommand_from oauth2" -f -a "login" -d 'Sign in with the provider (browser with PKCE, or a device code) and store the tokens'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand help; and __fish_seen_subcommand_from oauth2" -f -a "token" -d 'Print a fresh access token for ADDRESS on stdout (the command mail clients run)'
complete -c mailsetup -n "__fish_mailsetup_using_subcommand help; and __fish_seen_subcommand_from oauth2" -f -a "logout" -d 'Revoke the sign-in at the provider (where supported) and delete what is stored'
