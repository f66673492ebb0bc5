// `npm test`'s set-up (the `pretest` script): the WebGPU tests need a Vulkan driver Dawn accepts
// (lavapipe from Mesa 25 where there is no GPU) and Chromium; they fail, never skip, without them. As
// root on Debian it installs what is missing (scripts/install-lavapipe.sh, apt-get install chromium),
// as .ci/run used to; anywhere else it stops at once with the exact commands to run.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const CHROMIUM = '/usr/bin/chromium';

/** A Vulkan ICD for lavapipe or any GPU driver. */
function hasVulkanDriver() {
  const dirs = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d'];
  return dirs.some((d) => existsSync(d) && readdirSync(d).some((f) => f.endsWith('.json')));
}

/** Mesa's lavapipe new enough for Dawn (Debian bookworm's 22.3 is refused; 25 from backports works). */
function mesaVersion() {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Version}', 'mesa-vulkan-drivers'], { encoding: 'utf8' });
  } catch {
    return undefined;
  }
}

const isDebian = existsSync('/etc/debian_version') && existsSync('/usr/bin/apt-get');
const root = process.getuid?.() === 0;
const mesa = mesaVersion();
const oldMesa = mesa !== undefined && Number(/^(\d+)/.exec(mesa)?.[1] ?? 0) < 24;
const needVulkan = process.platform === 'linux' && (!hasVulkanDriver() || oldMesa);
const needChromium = process.platform === 'linux' && !existsSync(CHROMIUM);
// The xRFM tree's plan / fit-leaf / merge test (test/slurm) runs a real single-node Slurm.
const SLURM = ['/usr/sbin/slurmctld', '/usr/sbin/slurmd', '/usr/bin/sbatch', '/usr/sbin/munged'];
const needSlurm = process.platform === 'linux' && !SLURM.every((p) => existsSync(p));

if (process.env.FEATURE_LENS_SKIP_SETUP === '1' || (!needVulkan && !needChromium && !needSlurm)) process.exit(0);

const what = [
  needVulkan && `a Vulkan driver Dawn accepts (lavapipe, Mesa >= 24${mesa ? `; found ${mesa}` : ''})`,
  needChromium && `Chromium at ${CHROMIUM}`,
  needSlurm && 'a single-node Slurm (slurmctld, slurmd, sbatch, munged)',
]
  .filter(Boolean)
  .join(' and ');

if (root && isDebian) {
  console.log(`npm test set-up: installing ${what}`);
  const step = (cmd, args) => {
    const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (r.status !== 0) {
      console.error(`npm test set-up: '${[cmd, ...args].join(' ')}' failed (exit ${r.status})`);
      process.exit(1);
    }
  };
  if (needVulkan) step('scripts/install-lavapipe.sh', []);
  if (needChromium) step('apt-get', ['-o', 'DPkg::Lock::Timeout=900', 'install', '-y', '-qq', 'chromium']);
  if (needSlurm) step('scripts/slurm/install.sh', []);
  process.exit(0);
}

const sudo = root ? '' : 'sudo ';
const commands = [
  needVulkan && `${sudo}scripts/install-lavapipe.sh`,
  needChromium && `${sudo}apt-get install -y chromium`,
  needSlurm && `${sudo}scripts/slurm/install.sh`,
].filter(Boolean);
console.error(
  `npm test needs ${what}.\n` +
    (isDebian
      ? `Run first:\n  ${commands.join('\n  ')}\nthen npm test again.`
      : `On Debian 12 the commands are:\n  ${commands.join('\n  ')}\nElsewhere install your GPU's Vulkan driver (or Mesa's lavapipe >= 24) and Chromium at ${CHROMIUM}.`) +
    '\n(FEATURE_LENS_SKIP_SETUP=1 skips this check.)',
);
process.exit(1);
