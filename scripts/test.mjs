// `npm test`: every suite of the project, in order, with one summary at the end.
//
//  1. test prerequisites (Debian packages) are installed, idempotently
//  2. static checks: generated protocol files current, TypeScript (strict), ESLint, rustfmt, clippy -D warnings,
//     the workspace built on the Rust its `rust-version` names
//  3. unit tests: vitest (app/, main/, renderer/) and cargo test (native/)
//  4. fuzz: every cargo-fuzz target for a bounded time from its committed seeds
//  5. targets: native/ checked for Windows and macOS, its unit tests run as Windows binaries
//     under wine (toolchains from scripts/cross-toolchains.sh)
//  6. cross-process suites under test/ (network namespaces, TUN, real servers, Chromium)
//  7. the Linux packages, built and installed on a booted Debian 12 (test/packaging)
//  8. checks over what the suites left: the host's AWS ACS port is free, no secret in any output
//
// Suites that need root print a SKIP line when not run as root. With
// CAUSEWAY_REQUIRE_ALL_SUITES=1 (set by .ci/run) a skipped suite, a skipped test or a suite
// that ran no test fails the run. Pass suite names to run only those: `npm test -- unit native`.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const isRoot = process.getuid?.() === 0;
const requireAll = process.env.CAUSEWAY_REQUIRE_ALL_SUITES === '1';
const only = process.argv.slice(2);
const resultsDir = 'test-results';
mkdirSync(resultsDir, { recursive: true });
// Suites that make secrets record them afresh; the secret scan checks this run's outputs against them.
if (!only.length || only.includes('integration') || only.includes('e2e')) rmSync(join(resultsDir, 'secrets.txt'), { force: true });

/** Runs a command with inherited output; returns its exit status. */
function run(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  if (r.error) {
    console.error(`could not run ${cmd}: ${r.error.message}`);
    return 1;
  }
  return r.status ?? 1;
}

/** Runs a command, echoing its output, and returns the status and the captured text. */
function runCapture(cmd, args, env = process.env) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env });
  process.stdout.write(r.stdout ?? '');
  process.stderr.write(r.stderr ?? '');
  return { status: r.status ?? 1, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** Adds up cargo test's `test result:` lines. */
function cargoTestCounts(out) {
  const counts = { passed: 0, failed: 0, skipped: 0 };
  for (const m of out.matchAll(/test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored/g)) {
    counts.passed += Number(m[1]);
    counts.failed += Number(m[2]);
    counts.skipped += Number(m[3]);
  }
  return counts;
}

/** The environment scripts/cross-toolchains.sh wrote (KEY='VALUE' lines), on top of ours. */
function crossEnv(file) {
  const env = { ...process.env };
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^(\w+)='(.*)'$/.exec(line);
    if (m) env[m[1]] = m[2];
  }
  // Line tables are enough for a wine backtrace; full debuginfo for three std builds and the
  // Windows test binaries was a third of a cold run.
  env.CARGO_PROFILE_DEV_DEBUG = 'line-tables-only';
  // 1.96's cargo-clippy must win over rustup's proxy of the same name.
  env.PATH = `${env.CROSS_BIN}:${env.PATH}`;
  return env;
}

const crossCache = process.env.CAUSEWAY_CROSS_CACHE || '/var/cache/causeway-cross';
const crossTargets = ['x86_64-pc-windows-gnu', 'aarch64-apple-darwin', 'x86_64-apple-darwin'];

// Windows tests of guarantees wine does not give; they pass only on Windows itself.
const WINE_CANNOT_RUN = {
  'platform::windows::pipe::tests::a_second_listener_on_the_same_name_is_refused': 'wine 8 ignores FILE_FLAG_FIRST_PIPE_INSTANCE',
};

/**
 * `rust-version` in native/Cargo.toml is a promise to people building with an older Rust: the
 * workspace, with the locked dependencies, must build on exactly that toolchain.
 */
function rustVersionCheck() {
  const t0 = Date.now();
  const version = /^rust-version = "([\d.]+)"$/m.exec(readFileSync('native/Cargo.toml', 'utf8'))?.[1];
  if (!version) return { line: 'rust-version: not declared in native/Cargo.toml: FAILED', passed: 0, failed: 1, skipped: 0 };
  const steps = [
    ['rustup', ['toolchain', 'install', version, '--profile', 'minimal', '--no-self-update']],
    ['cargo', [`+${version}`, 'check', '--manifest-path', 'native/Cargo.toml', '--workspace', '--all-targets', '--locked']],
  ];
  const ok = steps.every(([cmd, args]) => {
    console.log(`\n$ ${cmd} ${args.join(' ')}`);
    return run(cmd, args, { CARGO_TARGET_DIR: 'native/target/rust-version' }) === 0;
  });
  const line = `x86_64-unknown-linux-gnu on rust-version ${version}: ${ok ? 'ok' : 'FAILED'} (${Math.round((Date.now() - t0) / 1000)} s)`;
  return { line, passed: ok ? 1 : 0, failed: ok ? 0 : 1, skipped: 0 };
}

/** clippy for every target, then the engine's and the helper's unit tests under wine. */
function targetsSuite() {
  const seconds = (t0) => `${Math.round((Date.now() - t0) / 1000)} s`;
  let t0 = Date.now();
  if (run('bash', ['scripts/cross-toolchains.sh'], { CAUSEWAY_CROSS_CACHE: crossCache }) !== 0) {
    console.log('targets: toolchain setup FAILED');
    return { status: 1, passed: 0, failed: 1, skipped: 0 };
  }
  console.log(`targets: toolchains ready (${seconds(t0)})`);
  const env = crossEnv(join(crossCache, 'env'));
  const manifest = ['--manifest-path', 'native/Cargo.toml'];
  const results = [];
  for (const target of crossTargets) {
    t0 = Date.now();
    const args = ['clippy', ...manifest, '-Zbuild-std', '--target', target, '--workspace', '--all-targets', '--', '-D', 'warnings'];
    console.log(`\n$ cargo ${args.join(' ')}`);
    const status = run(env.CARGO, args, env);
    results.push({ line: `${target} clippy: ${status === 0 ? 'ok' : 'FAILED'} (${seconds(t0)})`, passed: status === 0 ? 1 : 0, failed: status === 0 ? 0 : 1, skipped: 0 });
  }
  t0 = Date.now();
  const wineCannot = Object.entries(WINE_CANNOT_RUN);
  for (const [name, why] of wineCannot) console.log(`targets: not run under wine: ${name} (${why})`);
  const testArgs = ['test', ...manifest, '-Zbuild-std', '--target', crossTargets[0], '-p', 'causeway-engine', '-p', 'causeway-helper', '--lib', '--bins', '--tests',
    '--', ...wineCannot.flatMap(([name]) => ['--skip', name])];
  console.log(`\n$ cargo ${testArgs.join(' ')}`);
  const tested = runCapture(env.CARGO, testArgs, env);
  const counts = cargoTestCounts(tested.out);
  // wine can abort a test binary (an unimplemented Windows call) and still exit 0: every binary
  // that started ("running N tests") must also have finished ("test result:").
  const started = tested.out.match(/^running \d+ tests?$/gm)?.length ?? 0;
  const finished = tested.out.match(/^test result: /gm)?.length ?? 0;
  const ok = tested.status === 0 && counts.passed > 0 && started === finished;
  results.push({
    line: `${crossTargets[0]} unit tests under wine: ${ok ? 'ok' : 'FAILED'}, ${counts.passed} passed, ${counts.failed} failed (${seconds(t0)})`,
    passed: counts.passed,
    failed: ok ? counts.failed : counts.failed || 1,
    skipped: counts.skipped,
  });
  console.log('');
  for (const r of results) console.log(`targets: ${r.line}`);
  const sum = (k) => results.reduce((n, r) => n + r[k], 0);
  return { status: sum('failed') ? 1 : 0, passed: sum('passed'), failed: sum('failed'), skipped: sum('skipped') };
}

function vitestSuite(name, configArgs, env = {}) {
  const report = join(resultsDir, `vitest-${name}.json`);
  rmSync(report, { force: true });
  const status = run(
    'npx',
    ['vitest', 'run', ...configArgs, '--passWithNoTests', '--reporter=default', '--reporter=json', `--outputFile=${report}`],
    env,
  );
  let counts = { passed: 0, failed: 0, skipped: 0 };
  try {
    const j = JSON.parse(readFileSync(report, 'utf8'));
    counts = { passed: j.numPassedTests, failed: j.numFailedTests, skipped: j.numPendingTests + j.numTodoTests };
  } catch {
    // no report: vitest itself failed before running tests
  }
  return { status, ...counts };
}

/** Runs a command with inherited output, without blocking; resolves to its exit status. */
function runAsync(cmd, args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
    child.on('error', () => resolve(1));
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

/**
 * Every cargo-fuzz target of native/engine/fuzz runs for CAUSEWAY_FUZZ_SECONDS (default 20),
 * two at a time (the machine has two cores), starting from its committed seeds; inputs it finds
 * go to a scratch corpus under native/target, a crashing input to test-results/. cargo-fuzz
 * comes from crates.io (scripts/install-fuzz.sh); libFuzzer needs nightly compiler features,
 * which the stable compiler allows with RUSTC_BOOTSTRAP=1. No sanitizer: the parsers are safe
 * Rust, so the run looks for panics and failed assertions, and gets more executions.
 */
async function fuzzSuite() {
  const failedSetup = { status: 1, passed: 0, failed: 1, skipped: 0 };
  if (run('bash', ['scripts/install-fuzz.sh']) !== 0) return failedSetup;
  // Thin LTO (the release profile's, for the helper) would be redone for every target.
  const env = { RUSTC_BOOTSTRAP: '1', CARGO_PROFILE_RELEASE_LTO: 'false' };
  const dir = 'native/engine/fuzz';
  // A target dir of its own: instrumented builds never share artifacts with the helper's.
  const flags = ['--fuzz-dir', dir, '--target-dir', 'native/target/fuzz', '--sanitizer', 'none', '--debug-assertions'];
  if (run('cargo', ['fuzz', 'build', ...flags], env) !== 0) return failedSetup;
  const seconds = process.env.CAUSEWAY_FUZZ_SECONDS ?? '20';
  const targets = readdirSync(join(dir, 'fuzz_targets')).map((f) => f.replace(/\.rs$/, '')).sort();
  mkdirSync(join(resultsDir, 'fuzz'), { recursive: true });
  const failures = [];
  const queue = [...targets];
  const worker = async () => {
    for (let t = queue.shift(); t; t = queue.shift()) {
      const scratch = join('native', 'target', 'fuzz-corpus', t);
      mkdirSync(scratch, { recursive: true });
      const libfuzzer = [`-max_total_time=${seconds}`, '-timeout=10', `-artifact_prefix=${resultsDir}/fuzz/${t}-`];
      const status = await runAsync('cargo', ['fuzz', 'run', ...flags, t, scratch, join(dir, 'seeds', t), '--', ...libfuzzer], env);
      if (status !== 0) failures.push(t);
    }
  };
  await Promise.all([worker(), worker()]);
  for (const t of failures) console.error(`fuzz target ${t} failed (input saved under ${resultsDir}/fuzz/)`);
  return { status: failures.length ? 1 : 0, passed: targets.length - failures.length, failed: failures.length, skipped: 0 };
}

const suites = [
  {
    name: 'static',
    run() {
      const steps = [
        // main's protocol types and validator are what the helper's Rust types generate
        [process.execPath, ['scripts/gen-protocol.mjs', '--check']],
        ['npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']],
        ['npx', ['tsc', '-p', 'renderer/tsconfig.json', '--noEmit']],
        ['npx', ['eslint', '.', '--max-warnings=0']],
        ['cargo', ['fmt', '--manifest-path', 'native/Cargo.toml', '--all', '--check']],
        ['cargo', ['clippy', '--manifest-path', 'native/Cargo.toml', '--workspace', '--all-targets', '--', '-D', 'warnings']],
      ];
      let failed = 0;
      for (const [cmd, args] of steps) {
        console.log(`\n$ ${cmd} ${args.join(' ')}`);
        if (run(cmd, args) !== 0) failed++;
      }
      const rustVersion = rustVersionCheck();
      console.log(`static: ${rustVersion.line}`);
      failed += rustVersion.failed;
      return { status: failed ? 1 : 0, passed: steps.length + 1 - failed, failed, skipped: 0 };
    },
  },
  { name: 'unit', run: () => vitestSuite('unit', []) },
  {
    name: 'native',
    run() {
      // Root-only tests are `#[ignore = "needs root"]`: run them as root, count them as skipped
      // otherwise (so CAUSEWAY_REQUIRE_ALL_SUITES=1 sees them). Nothing else is ignored.
      const args = ['test', '--manifest-path', 'native/Cargo.toml', '--workspace'];
      const { status, out } = runCapture('cargo', isRoot ? [...args, '--', '--include-ignored'] : args);
      return { status, ...cargoTestCounts(out) };
    },
  },
  { name: 'fuzz', run: fuzzSuite },
  // Installs Debian packages the first time (apt), so it needs root like the lab suites.
  { name: 'targets', needsRoot: true, run: targetsSuite },
  {
    name: 'integration',
    needsRoot: true,
    run: () =>
      vitestSuite(
        'integration',
        [
          '--config',
          'vitest.integration.config.ts',
          '--exclude',
          'test/integration/secret-scan.test.ts',
          '--exclude',
          'test/integration/host-aws-port.test.ts',
        ],
        { CAUSEWAY_SUITE_GLOB: 'test/integration/**/*.test.ts' },
      ),
  },
  {
    name: 'e2e',
    needsRoot: true,
    run: () =>
      vitestSuite('e2e', ['--config', 'vitest.integration.config.ts'], { CAUSEWAY_SUITE_GLOB: 'test/e2e/**/*.test.ts' }),
  },
  // The causeway packages built (`npm run dist:linux`) and installed on a Debian 12 booted under
  // systemd-nspawn (test/packaging; its root file system is cached outside the repository).
  {
    name: 'packaging',
    needsRoot: true,
    run() {
      if (run(process.execPath, ['scripts/dist-linux.mjs', '--prebuilt']) !== 0) return { status: 1, passed: 0, failed: 1, skipped: 0 };
      return vitestSuite('packaging', ['--config', 'vitest.integration.config.ts'], { CAUSEWAY_SUITE_GLOB: 'test/packaging/**/*.test.ts' });
    },
  },
  // After the suites: none left a listener on the host's 127.0.0.1:35001 (the AWS VPN Client's port).
  {
    name: 'host-ports',
    run: () =>
      vitestSuite('host-ports', ['--config', 'vitest.integration.config.ts'], {
        CAUSEWAY_SUITE_GLOB: 'test/integration/host-aws-port.test.ts',
      }),
  },
  // Last: no secret recorded in test-results/secrets.txt may appear in any output (test/README.md).
  {
    name: 'secret-scan',
    run: () =>
      vitestSuite('secret-scan', ['--config', 'vitest.integration.config.ts'], {
        CAUSEWAY_SUITE_GLOB: 'test/integration/secret-scan.test.ts',
      }),
  },
];

const prereq = run('bash', ['scripts/install-test-deps.sh']);
if (prereq !== 0) {
  console.error('test prerequisites could not be installed');
  process.exit(1);
}
// Cross-process suites run the release helper; build it (a no-op when up to date).
if (run('cargo', ['build', '--release', '--manifest-path', 'native/Cargo.toml']) !== 0) process.exit(1);
if (run(process.execPath, ['scripts/build.mjs']) !== 0) process.exit(1);

const rows = [];
for (const suite of suites) {
  if (only.length && !only.includes(suite.name)) continue;
  if (suite.needsRoot && !isRoot) {
    console.log(`\nSKIP ${suite.name}: needs root (network namespaces and TUN devices); run as root or via .ci/run`);
    rows.push({ name: suite.name, status: 'skipped', passed: 0, failed: 0, skipped: 0 });
    continue;
  }
  console.log(`\n=== ${suite.name} ===`);
  const r = await suite.run();
  rows.push({ name: suite.name, ...r, status: r.status === 0 ? 'ok' : 'FAILED' });
}

console.log('\nsuite         result    passed  failed  skipped');
for (const r of rows) {
  console.log(
    `${r.name.padEnd(13)} ${r.status.padEnd(9)} ${String(r.passed).padStart(6)}  ${String(r.failed).padStart(6)}  ${String(r.skipped).padStart(7)}`,
  );
}

const problems = [];
for (const r of rows) {
  if (r.status === 'FAILED') problems.push(`${r.name} failed`);
  if (requireAll && r.status === 'skipped') problems.push(`${r.name} was skipped`);
  if (requireAll && r.status === 'ok' && r.skipped > 0) problems.push(`${r.name} skipped ${r.skipped} test(s)`);
  if (requireAll && r.status === 'ok' && r.passed === 0) problems.push(`${r.name} ran no test`);
}
const passed = rows.reduce((n, r) => n + r.passed, 0);
const failed = rows.reduce((n, r) => n + r.failed, 0);
for (const p of problems) console.error(`problem: ${p}`);
console.log(`\ntotal: ${passed} passed, ${failed} failed`);
process.exit(problems.length ? 1 : 0);
