import type { BounceReason } from '../../document/metadata-schema.ts';

/**
 * What MTAs and mailbox providers write for each bounce reason, in sisimai's vocabulary (libsisimai.org, whose
 * reason classes and message collection this list follows; the patterns are ours). Matched against the
 * lower-cased diagnostic with whitespace collapsed; English and Japanese. Order matters: the first class that
 * matches wins, so the specific classes (a full mailbox, a size limit) come before the broad ones (rejected,
 * blocked, security), as a "550 5.7.1 ... mailbox full" is a full mailbox whatever its status code says.
 */
export const REASON_PHRASES: ReadonlyArray<readonly [BounceReason, RegExp]> = [
  [
    'mailboxfull',
    new RegExp(
      [
        'mailbox (?:is |was )?full',
        'full mailbox',
        'mailbox (?:size|storage)? ?(?:limit )?exceeded',
        'mailbox exceeded',
        'over ?quota',
        'over (?:the )?(?:allowed )?quota',
        'quotaexceeded',
        'quota (?:exceeded|violation|full)',
        'exceeded (?:his|her|the|their)? ?(?:storage|quota|disk)',
        'disk quota',
        'insufficient (?:disk )?space',
        'not enough (?:disk |storage )?space',
        'no space left',
        'mailfolder is full',
        'mailbox would exceed',
        'too much mail data',
        'user has too many messages',
        'space has been used up',
        'account is (?:over|full|exceeding)',
        'maildir over quota',
        'mailbox has exceeded',
        'boite du destinataire pleine',
        'as their mailbox is full',
        'メールボックス(?:が|の容量が)?(?:いっぱい|満杯|一杯)',
        '容量(?:を)?(?:超過|超え|オーバー)',
        '容量が不足',
        '保存容量',
      ].join('|'),
    ),
  ],
  [
    'mesgtoobig',
    /message (?:is )?too (?:big|large)|message size exceeds|size limit|exceeds? (?:the )?maximum (?:allowed |incoming |inbound )?(?:message )?size|message length exceeds|message file too big|line limit exceeded|taille limite|メール(?:の)?サイズ(?:が|の)?(?:大き|超過|上限)|サイズ(?:制限|が大きすぎ)/,
  ],
  ['exceedlimit', /exceeds? (?:the )?(?:administrative|per-mailbox) limit|recipient limit|too many recipients/],
  [
    'suspend',
    /(?:account|mailbox|user)(?: is| has been)? (?:currently |temporarily )?(?:suspended|disabled|deactivated|inactive|frozen|locked|terminated)|inactive (?:account|user)|archived recipient|invalid\/inactive user|user suspended|account (?:has been )?(?:disabled|discontinued)|the user\(s\) account is (?:disabled|temporarily limited)|email account that you tried to reach is (?:disabled|inactive)|(?:利用|使用)(?:停止|休止)|一時停止/,
  ],
  ['hasmoved', /has moved|mailbox has been moved|no longer (?:available|in use) at this address|address (?:has )?changed/],
  [
    'norelaying',
    /relay(?:ing)? (?:access )?(?:denied|not (?:permitted|allowed))|not permitted to relay|unable to relay|we do not relay|no relaying|relay not permitted|relaying denied|smtp relay error/,
  ],
  [
    'authfailure',
    /\bspf\b.*\b(?:fail|hard ?fail|permerror|not pass)|\bdkim\b.*\b(?:fail|invalid|not pass)|\bdmarc\b.*\b(?:fail|reject|policy)|authentication checks? failed|5\.7\.2[03-6]\b|sender policy framework/,
  ],
  [
    'userunknown',
    new RegExp(
      [
        'user unknown',
        'unknown user',
        'no such (?:user|mailbox|recipient|person|address|account)',
        "user (?:does not|doesn't|not) exist",
        'user not (?:found|known|local)',
        "mailbox (?:does not|doesn't) exist",
        'mailbox (?:not found|unavailable|invalid|is unavailable|not present)',
        'invalid (?:recipient|mailbox|address|user)',
        'recipient (?:address )?(?:unknown|not found|does not exist|rejected: (?:user unknown|invalid|unknown user|undeliverable address))',
        'unknown (?:recipient|mailbox|local ?part|address|e-?mail address)',
        "address (?:does not exist|unknown|not found|invalid|couldn't be found|not present)",
        "email address (?:could not be found|does not exist|is not valid|couldn't be found)",
        'the email account that you tried to reach does not exist',
        'no mailbox (?:here|by that name|found)',
        'not a valid (?:recipient|user|mailbox)',
        'is not a (?:known|valid) user',
        'bad (?:destination )?(?:mailbox|recipient|address)',
        'recipnotfound',
        'recipientnotfound',
        'not listed in (?:domino )?directory',
        'no account by that name',
        "couldn't be found",
        "wasn't found at",
        'sorry, no mailbox',
        'undeliverable address',
        'this address no longer accepts mail',
        'badrcptto',
        'validrcptto',
        'does not have an? (?:account|mailbox)',
        'account (?:\\S+ )?does not exist',
        'utilisateur inconnu',
        'no existe',
        'unbekannt',
        'not our customer',
        '宛先(?:の)?(?:メール)?アドレス(?:が|は)(?:見つかりません|存在しません|不明)',
        '宛先不明',
        '存在しない(?:メール)?アドレス',
        'アドレスが見つかりません',
        '(?:ユーザー?|ユーザ|アカウント|メールアドレス)(?:が|は)(?:存在しません|見つかりません|不明)',
        'ユーザー?不明',
      ].join('|'),
    ),
  ],
  [
    'filtered',
    /user refuses|recipient (?:id )?refuses?|refused due to recipient preferences|message rejected due to user rules|you have been blocked by the recipient|is not accepting (?:any )?mail|only accepting mail from|restricted sms e-?mail|受信拒否|受け取り拒否|拒否設定|指定受信|受信制限|迷惑メール(?:設定|フィルター?)/,
  ],
  [
    'requireptr',
    /reverse (?:dns|lookup)|\bptr\b(?: record)?|no (?:rdns|reverse)|cannot find your hostname|client host rejected: cannot find your/,
  ],
  [
    'notcompliantrfc',
    // "rfc822;" alone is an address type in every report: only a complaint about compliance counts.
    /(?:not|non)[- ]?(?:rfc|standards?)[- ]?(?:\d+[- ])?complian|rfc ?(?:2822|5322|5321|1035|822) ?(?:violation|complian|section \d)|violat\w* (?:of )?rfc ?\d+|duplicate (?:header|message-id)|multiple (?:from|subject|date) (?:fields|headers)/,
  ],
  ['badreputation', /(?:ip|sender|domain) reputation|poor reputation|low reputation|reputation (?:is too low|of the sending)/],
  ['virusdetected', /virus|malware|infected|trojan|executable (?:content|attachment|files? (?:is|are) not allowed)|ウイルス/],
  [
    'spamdetected',
    /\bspam\b|unsolicited|bulk (?:e-?mail|mail)|junk mail|content filter|message (?:content )?rejected|rejecting (?:banned|mail) content|blacklisted url|looks like spam|spam-like|uribl|迷惑メール/,
  ],
  [
    'rejected',
    /sender (?:address )?(?:rejected|denied|blacklisted|not (?:allowed|pre-approved))|invalid sender|bogus mail from|sender verify failed|sender was rejected|domain of sender address|mail from not owned|null sender|empty envelope senders|returned mail not accepted|(?:access|envelope) blocked|administrative prohibition|batv|this server does not accept mail from|(?:in reply to|after) mail from/,
  ],
  [
    'hostunknown',
    /host (?:or domain name )?(?:unknown|not found)|unknown host|no such domain|domain (?:does not|doesn't|must) exist|(?:unrout(?:e)?able|non-?existent) (?:address|domain|host)|name or service not known|unknown domain|mx records? (?:point|for)|domain is not reachable|all (?:relevant )?mx records point|host address lookups failed|the account or domain may not exist|as the remote domain doesnt exist|ドメイン(?:が|は)(?:存在しません|見つかりません)|ホスト(?:が|は)(?:見つかりません|存在しません)/,
  ],
  ['toomanyconn', /too many (?:connections|concurrent|sessions|simultaneous)|connection limit|concurrency limit/],
  [
    'speeding',
    /rate limit|too many (?:messages|emails|mails)|sending (?:too fast|rate)|try again later.*\b(?:limit|volume)|exceeded the (?:hourly|daily|sending) limit|temporarily deferred due to (?:unexpected )?volume/,
  ],
  [
    'blocked',
    /blocked|blacklisted|black ?list|block ?list|\b(?:dns)?rbl\b|spamhaus|spamcop|barracuda|listed (?:at|in|on)|client host (?:\[[^\]]*\] )?rejected|connection refused by|not currently accepting mail from your ip|helo command rejected|dynamic ip|your ip|banned sending ip|go away/,
  ],
  [
    'policyviolation',
    /policy (?:violation|reasons|rejection)|violates? (?:our|the|a) (?:policy|policies)|prohibited|not (?:authorized|allowed) by policy|\bdlp\b/,
  ],
  ['systemfull', /mail system full|system (?:storage|disk) (?:is )?full|insufficient system storage|mail system congestion/],
  [
    'notaccept',
    /does not accept mail|null ?mx|no mx record|not accepting (?:network )?messages|mail receiving disabled|smtp protocol returned a permanent error|no route for current request/,
  ],
  [
    'expired',
    /(?:connection|message|delivery) (?:timed out|time ?out|expired)|retry timeout exceeded|giving up on|could not be delivered (?:for|within) (?:more than )?\d+|has been delayed|queue (?:too long|period)|was not delivered within|delivery attempts will continue|unable to deliver (?:message )?after multiple retries|server did not respond|no answer from host|failing for a long time|配信(?:期限|時間)|時間内に(?:配信|送信)できません/,
  ],
  [
    'networkerror',
    /no route to host|host is unreachable|network is unreachable|name server|dns (?:lookup|failure|error|timeout)|lookup failure|mail (?:forwarding )?loop|too many hops|hop count exceeded|routing loop|message looping|connection reset/,
  ],
  [
    'securityerror',
    /authentication (?:required|failed|failure|credentials)|unauthenticated|tls (?:required|negotiation failed)|starttls|certificate|encryption (?:required|needed)|insecure/,
  ],
  [
    'systemerror',
    /system (?:config(?:uration)? )?error|local (?:configuration )?error|internal (?:server )?error|server configuration|misconfigured|temporary (?:local )?(?:problem|failure)|service (?:currently )?unavailable|loops back to myself|queue file write error|interrupted system call|local delivery failed/,
  ],
  ['mailererror', /\b(?:x-unix|procmail|maildrop)\b|pipe to \||command (?:died|failed|output)|exit (?:code|status) \d+|mailer error/],
  [
    'syntaxerror',
    /syntax error|command unrecognized|bad sequence of commands|command not implemented|parameter not implemented|line too long/,
  ],
];
