// The deployment files (deploy/docker, deploy/kubernetes) checked against the program they run, without Docker or
// a cluster: every Kubernetes object against the Kubernetes OpenAPI schema (kubernetes-models), and every
// container's command line, environment, ports and volumes against the `fedtl` subcommand's own option
// declarations, so a renamed flag, a changed port or a path off the volume fails here rather than in a pod.
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { ConfigMap, PersistentVolumeClaim, Secret, Service } from 'kubernetes-models/v1';
import type { IContainer, IContainerPort, IPodTemplateSpec, IProbe, IVolume } from 'kubernetes-models/v1';
import {
  CONFIG_FILE_ENV,
  envName,
  flagName,
  isCommandGroup,
  parseCommandLine,
  type CommandGroupSpec,
  type CommandSpec,
  type OptionDeclarations,
} from '@fedtl/util/options';
import { COMMANDS } from './program';
import { readDockerfile, type DockerStage } from './testing/dockerfile';

const ROOT = join(__dirname, '..', '..', '..');
const KUBERNETES_DIR = 'deploy/kubernetes';
const COMPOSE_FILE = 'deploy/docker/docker-compose.yml';

/** The images the manifests and the compose file run, each with the Dockerfile that builds it (`docker build -t IMAGE`). */
const IMAGE_DOCKERFILES: Record<string, string> = {
  fedtl: 'deploy/docker/Dockerfile',
  'fedtl-gpu-client': 'deploy/docker/Dockerfile.gpu-client',
};

/** The Kubernetes kinds the manifests may hold, each with the kubernetes-models class that validates it. */
const KUBERNETES_MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'v1/Service': Service,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
};

/**
 * Options whose value is a directory or file the program writes, so it must lie on a writable volume: the first
 * ones are written on every run (a command that declares one must be given it, or default to, a path on a
 * volume), the others only when given.
 */
const ALWAYS_WRITTEN_OPTIONS = ['outDir', 'cacheDir'];
const WRITTEN_PATH_OPTIONS = [...ALWAYS_WRITTEN_OPTIONS, 'auditDir', 'readyFile', 'dpLedger'];

/** What a secret from a Secret or the compose file's environment stands for when the flags are parsed. */
const PLACEHOLDER_SECRET = 'placeholder-for-a-deployment-secret-0123456789';

/** The coordinator's health endpoints: alive while the process lives, ready once it accepts clients. */
const LIVENESS_PATH = '/healthz';
const READINESS_PATH = '/readyz';

function readRepoFile(path: string): string {
  return readFileSync(join(ROOT, path), 'utf8');
}

// ---------------------------------------------------------------------------------------------------------------
// Every place a `fedtl` process is started from: each Kubernetes container, each compose service and each image's
// own default command, with what it runs, its environment, the ports it publishes and the volumes it sees.

interface Mount {
  path: string;
  writable: boolean;
}

interface FedtlContainer {
  where: string;
  dockerfile: string;
  /** The whole command line: ENTRYPOINT + CMD as the runtime combines the image's and the file's. */
  argv: string[];
  env: Record<string, string>;
  /** Container ports it publishes: containerPort, the container side of compose `ports`, or EXPOSE. */
  ports: number[];
  mounts: Mount[];
  /** The Kubernetes container, for its probes; absent for compose and the image. */
  kubernetes?: { container: IContainer; podLabels: Record<string, string>; kind: string };
  /** The compose service's name, how other services reach it. */
  composeService?: string;
}

function imageStage(dockerfile: string): DockerStage {
  return readDockerfile(readRepoFile(dockerfile)).at(-1) as DockerStage;
}

function dockerfileOfImage(image: string, where: string): string {
  const name = image.replace(/:[^/:]+$/, '');
  const dockerfile = IMAGE_DOCKERFILES[name];
  if (!dockerfile) throw new Error(`${where}: image ${image} is not one this repository builds (${Object.keys(IMAGE_DOCKERFILES).join(', ')})`);
  return dockerfile;
}

interface KubernetesObject {
  file: string;
  document: { apiVersion?: string; kind?: string; metadata?: { name?: string }; spec?: Record<string, unknown> };
}

function kubernetesManifestFiles(): string[] {
  return readdirSync(join(ROOT, KUBERNETES_DIR))
    .filter((name) => /\.ya?ml$/.test(name) && name !== 'kustomization.yaml')
    .sort();
}

function kubernetesObjects(): KubernetesObject[] {
  return kubernetesManifestFiles().flatMap((name) => {
    const file = `${KUBERNETES_DIR}/${name}`;
    return parseAllDocuments(readRepoFile(file)).map((document) => {
      if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0].message}`);
      return { file, document: document.toJS() as KubernetesObject['document'] };
    });
  });
}

/** The pod template of a workload (Deployment, Job), or undefined for other kinds. */
function podTemplate(object: KubernetesObject): IPodTemplateSpec | undefined {
  return ['Deployment', 'Job'].includes(object.document.kind ?? '') ? (object.document.spec?.template as IPodTemplateSpec) : undefined;
}

function kubernetesContainers(): FedtlContainer[] {
  return kubernetesObjects().flatMap((object) => {
    const template = podTemplate(object);
    if (!template) return [];
    const volumes = new Map<string, IVolume>((template.spec?.volumes ?? []).map((volume) => [volume.name, volume]));
    return (template.spec?.containers ?? []).map((container) => {
      const where = `${object.file} ${object.document.kind}/${object.document.metadata?.name} container ${container.name}`;
      const dockerfile = dockerfileOfImage(container.image ?? '', where);
      const image = imageStage(dockerfile);
      // Kubernetes: `command` replaces ENTRYPOINT (and drops CMD), `args` replaces CMD.
      const argv = [...(container.command ?? image.entrypoint ?? []), ...(container.args ?? (container.command ? [] : image.cmd ?? []))];
      if (container.envFrom) throw new Error(`${where}: envFrom hides the variable names from this check; list them under env`);
      const env = { ...image.env };
      for (const variable of container.env ?? []) env[variable.name] = variable.valueFrom ? PLACEHOLDER_SECRET : variable.value ?? '';
      const mounts = (container.volumeMounts ?? []).map((mount) => {
        if (!volumes.has(mount.name)) throw new Error(`${where}: volumeMount ${mount.name} names no volume of its pod`);
        return { path: mount.mountPath, writable: mount.readOnly !== true };
      });
      return {
        where,
        dockerfile,
        argv,
        env,
        ports: (container.ports ?? []).map((port) => port.containerPort),
        mounts,
        kubernetes: { container, podLabels: template.metadata?.labels ?? {}, kind: object.document.kind as string },
      };
    });
  });
}

interface ComposeService {
  image?: string;
  build?: { context?: string; dockerfile?: string };
  entrypoint?: string[] | string;
  command?: string[] | string;
  /** A map, or a list of NAME=VALUE; a name without a value passes the host's variable through. */
  environment?: Record<string, string | null> | string[];
  volumes?: string[];
  ports?: string[];
}

function composeServices(): Record<string, ComposeService> {
  return (parse(readRepoFile(COMPOSE_FILE), { merge: true }) as { services: Record<string, ComposeService> }).services;
}

/** A compose value after interpolation: `${X:?msg}` and `${X}` stand for a secret, `${X:-d}` for its default. */
function interpolate(value: string): string {
  return value.replace(/\$\{([A-Z0-9_]+)(?::?([-?])([^}]*))?\}/g, (_match, _name, operator: string | undefined, word: string) =>
    operator === '-' ? word : PLACEHOLDER_SECRET,
  );
}

function composeContainers(): FedtlContainer[] {
  return Object.entries(composeServices()).map(([name, service]) => {
    const where = `${COMPOSE_FILE} service ${name}`;
    const dockerfile = dockerfileOfImage(service.image ?? '', where);
    if (service.build?.dockerfile !== dockerfile) throw new Error(`${where}: image ${service.image} is built by ${dockerfile}, not ${service.build?.dockerfile}`);
    const image = imageStage(dockerfile);
    // Compose: `entrypoint` replaces ENTRYPOINT and drops CMD, `command` replaces CMD.
    const entrypoint = service.entrypoint === undefined ? undefined : execForm(service.entrypoint, `${where} entrypoint`);
    const command = service.command === undefined ? undefined : execForm(service.command, `${where} command`);
    const argv = [...(entrypoint ?? image.entrypoint ?? []), ...(command ?? (entrypoint ? [] : image.cmd ?? []))];
    const environment = Array.isArray(service.environment)
      ? service.environment.map((pair) => (pair.includes('=') ? [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)] : [pair, null]))
      : Object.entries(service.environment ?? {});
    const env = { ...image.env };
    for (const [variable, value] of environment) env[variable as string] = value === null ? PLACEHOLDER_SECRET : interpolate(value);
    const mounts = [
      ...image.volumes.map((path) => ({ path, writable: true })),
      ...(service.volumes ?? []).map((volume) => {
        // SOURCE:TARGET[:MODE], or TARGET alone for an anonymous volume.
        const parts = volume.split(':');
        return { path: parts.length === 1 ? parts[0] : parts[1], writable: parts[2] !== 'ro' };
      }),
    ];
    const ports = (service.ports ?? []).map((port) => Number((port.split(':').at(-1) as string).replace(/\/(tcp|udp)$/, '')));
    return { where, dockerfile, argv, env, ports, mounts, composeService: name };
  });
}

/** A compose command in its exec (list) form; the shell form would run the launcher under /bin/sh. */
function execForm(command: string[] | string, where: string): string[] {
  if (typeof command === 'string') throw new Error(`${where}: give it as a list (["client", "--coordinator", …]), not the shell form`);
  return command;
}

function imageDefaultContainers(): FedtlContainer[] {
  return Object.values(IMAGE_DOCKERFILES).map((dockerfile) => {
    const image = imageStage(dockerfile);
    return {
      where: `${dockerfile} (its ENTRYPOINT and CMD)`,
      dockerfile,
      argv: [...(image.entrypoint ?? []), ...(image.cmd ?? [])],
      env: { ...image.env },
      ports: image.expose,
      mounts: image.volumes.map((path) => ({ path, writable: true })),
    };
  });
}

function allContainers(): FedtlContainer[] {
  return [...kubernetesContainers(), ...composeContainers(), ...imageDefaultContainers()];
}

// ---------------------------------------------------------------------------------------------------------------
// What a container runs, as the program would read it.

type AnyCommand = CommandSpec<any> | CommandGroupSpec; // eslint-disable-line @typescript-eslint/no-explicit-any

interface ParsedRun {
  /** `coordinator`, `client`, `bench domains`… */
  command: string;
  spec: CommandSpec<OptionDeclarations>;
  values: Record<string, unknown>;
}

/**
 * The subcommand and option values of `node <launcher> SUBCOMMAND FLAGS…`, parsed by the subcommand's own
 * declarations with the container's environment, as `fedtl` parses them.
 * @throws Error when the command line does not run the image's launcher or names no subcommand;
 *   FedtlError FEDTL_ERR_BAD_CONFIG for a flag or value the subcommand refuses.
 */
function parseRun(container: FedtlContainer): ParsedRun {
  const [node, launcher, ...rest] = container.argv;
  const launchers = launcherPaths(imageStage(container.dockerfile));
  if (node !== 'node' || !launchers.includes(launcher)) {
    throw new Error(`runs ${JSON.stringify(container.argv.slice(0, 2))}, not ["node", "${launchers[0] ?? 'bin/fedtl.js copied into the image'}"]`);
  }
  const names: string[] = [];
  let commands: readonly AnyCommand[] = COMMANDS;
  for (;;) {
    const name = rest[names.length];
    const spec = commands.find((candidate) => candidate.name === name);
    if (!spec) throw new Error(`runs fedtl ${[...names, name ?? ''].join(' ')}: no such subcommand (${commands.map((candidate) => candidate.name).join(', ')})`);
    names.push(name);
    if (isCommandGroup(spec)) {
      commands = spec.commands;
      continue;
    }
    const argv = rest.slice(names.length);
    const loaded = parseCommandLine(spec.options, argv, container.env, (path) => {
      throw new Error(`--config ${path}: the deployment files pass no config file`);
    });
    return { command: names.join(' '), spec, values: loaded.values as Record<string, unknown> };
  }
}

/** Where the image's launcher is: the absolute paths its runtime stage copies package.json's bin to. */
function launcherPaths(stage: DockerStage): string[] {
  const bin = (JSON.parse(readRepoFile('package.json')) as { bin: Record<string, string> }).bin.fedtl;
  return stage.copies.filter((copy) => copy.from === undefined && copy.sources.includes(bin)).map((copy) => (copy.destination.endsWith('/') ? posix.join(copy.destination, posix.basename(bin)) : copy.destination));
}

function isUnder(path: string, mount: Mount): boolean {
  return path === mount.path || path.startsWith(mount.path.replace(/\/$/, '') + '/');
}

/** What `check` finds wrong with each container, each problem prefixed with where it is. */
function problemsOf(check: (container: FedtlContainer, run: ParsedRun) => string[]): string[] {
  return allContainers().flatMap((container) => {
    try {
      return check(container, parseRun(container)).map((problem) => `${container.where}: ${problem}`);
    } catch (err) {
      return [`${container.where}: ${(err as Error).message}`];
    }
  });
}

// ---------------------------------------------------------------------------------------------------------------

describe('the Kubernetes manifests', () => {
  it('are valid objects of their apiVersion and kind (the Kubernetes OpenAPI schema, through kubernetes-models)', () => {
    const objects = kubernetesObjects();
    expect(objects.length).toBeGreaterThan(0);
    const problems = objects.flatMap(({ file, document }) => {
      const Model = KUBERNETES_MODELS[`${document.apiVersion}/${document.kind}`];
      if (!Model) return [`${file}: ${document.apiVersion} ${document.kind} is not a kind this check knows (${Object.keys(KUBERNETES_MODELS).join(', ')})`];
      try {
        new Model(document as never).validate();
        return [];
      } catch (err) {
        return [`${file} ${document.kind}/${document.metadata?.name}: ${(err as Error).message}`];
      }
    });
    expect(problems).toEqual([]);
  });

  it('are exactly the resources kustomization.yaml lists, so `kubectl apply -k deploy/kubernetes` applies them all', () => {
    const kustomization = parse(readRepoFile(`${KUBERNETES_DIR}/kustomization.yaml`)) as Record<string, unknown>;
    expect(kustomization).toEqual({
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      resources: expect.any(Array),
    });
    expect([...(kustomization.resources as string[])].sort()).toEqual(kubernetesManifestFiles());
  });

  it('probe the coordinator on its --port: /healthz for liveness, /readyz for readiness', () => {
    const problems = problemsOf((container, run) => {
      const pod = container.kubernetes;
      if (!pod || pod.kind !== 'Deployment' || run.command !== 'coordinator') return [];
      const port = run.values.port as number;
      const probe = (what: string, found: IProbe | undefined, path: string) => {
        const target = found?.httpGet && resolvePort(found.httpGet.port, pod.container.ports ?? []);
        return found?.httpGet?.path === path && target === port ? [] : [`${what} should GET ${path} on port ${port}, got ${JSON.stringify(found ?? null)}`];
      };
      return [...probe('livenessProbe', pod.container.livenessProbe, LIVENESS_PATH), ...probe('readinessProbe', pod.container.readinessProbe, READINESS_PATH)];
    });
    expect(problems).toEqual([]);
  });

  it('route every Service port to a port a selected container publishes', () => {
    const containers = kubernetesContainers();
    const problems = servicesOf(kubernetesObjects()).flatMap(({ name, selector, ports }) => {
      const selected = containers.filter(({ kubernetes }) => kubernetes !== undefined && selects(selector, kubernetes.podLabels));
      if (selected.length === 0) return [`Service ${name} selects no pod of these manifests`];
      return ports.flatMap((port) =>
        selected.flatMap(({ where, kubernetes }) =>
          resolvePort(port.targetPort ?? port.port, kubernetes?.container.ports ?? []) === undefined ? [`Service ${name} port ${port.port}: ${where} publishes no port ${port.targetPort}`] : [],
        ),
      );
    });
    expect(problems).toEqual([]);
  });
});

/** A Service's selector matches a pod's labels. */
function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

/** A probe's or Service's port (a number, or the name of a containerPort) as a container port number. */
function resolvePort(port: number | string, published: IContainerPort[]): number | undefined {
  if (typeof port === 'number') return published.some((candidate) => candidate.containerPort === port) ? port : undefined;
  return published.find((candidate) => candidate.name === port)?.containerPort;
}

interface ServicePorts {
  name: string;
  selector: Record<string, string>;
  ports: Array<{ port: number; targetPort?: number | string }>;
}

function servicesOf(objects: KubernetesObject[]): ServicePorts[] {
  return objects
    .filter(({ document }) => document.kind === 'Service')
    .map(({ document }) => ({
      name: document.metadata?.name as string,
      selector: (document.spec?.selector ?? {}) as Record<string, string>,
      ports: (document.spec?.ports ?? []) as ServicePorts['ports'],
    }));
}

describe('every fedtl container (Kubernetes, compose, and each image by default)', () => {
  it('runs `fedtl SUBCOMMAND` through the launcher its image copies, with flags and values that subcommand accepts', () => {
    const containers = allContainers();
    expect(containers.map(({ where }) => where)).toEqual(expect.arrayContaining([expect.stringContaining('coordinator.yaml'), expect.stringContaining('gpu-client-job.yaml'), expect.stringContaining(COMPOSE_FILE)]));
    expect(problemsOf(() => [])).toEqual([]);
  });

  it('sets only FEDTL_* variables its subcommand declares (or FEDTL_CONFIG)', () => {
    const problems = problemsOf((container, run) => {
      const declared = new Set([CONFIG_FILE_ENV, ...Object.entries(run.spec.options).map(([key, declaration]) => envName(key, declaration))]);
      return Object.keys(container.env)
        .filter((name) => name.startsWith('FEDTL_') && !declared.has(name))
        .map((name) => `sets ${name}, which fedtl ${run.command} does not read`);
    });
    expect(problems).toEqual([]);
  });

  it('publishes the port the coordinator listens on (--port or its default), and only that', () => {
    const problems = problemsOf((container, run) => {
      const port = run.command === 'coordinator' ? (run.values.port as number) : undefined;
      const expected = port === undefined ? [] : [port];
      return JSON.stringify(container.ports) === JSON.stringify(expected) ? [] : [`publishes ports ${JSON.stringify(container.ports)}, but fedtl ${run.command} listens on ${JSON.stringify(expected)}`];
    });
    expect(problems).toEqual([]);
  });

  it('reaches its coordinator by the name and port of a Service or compose service in front of a coordinator', () => {
    // Where coordinators listen; a container whose command line does not parse is the first test's failure.
    const coordinators = allContainers().flatMap((container) => {
      try {
        const run = parseRun(container);
        return run.command === 'coordinator' ? [{ container, port: run.values.port as number }] : [];
      } catch {
        return [];
      }
    });
    const services = servicesOf(kubernetesObjects());
    const problems = problemsOf((container, run) => {
      if (run.command !== 'client' || (!container.kubernetes && !container.composeService)) return [];
      const url = new URL(String(run.values.coordinator));
      const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
      const reached = container.kubernetes
        ? services.some(
            (service) =>
              service.name === url.hostname &&
              service.ports.some(
                (servicePort) =>
                  servicePort.port === port &&
                  coordinators.some(
                    ({ container: target, port: listening }) =>
                      target.kubernetes !== undefined &&
                      selects(service.selector, target.kubernetes.podLabels) &&
                      resolvePort(servicePort.targetPort ?? servicePort.port, target.kubernetes.container.ports ?? []) === listening,
                  ),
              ),
          )
        : coordinators.some(({ container: target, port: listening }) => target.composeService === url.hostname && listening === port);
      return reached ? [] : [`--coordinator ${url.href} reaches no coordinator listening there`];
    });
    expect(problems).toEqual([]);
  });

  it('keeps every absolute path it names on a mounted volume, and what it writes on a writable one', () => {
    const declared = new Set(COMMANDS.flatMap(function keys(spec: AnyCommand): string[] {
      return isCommandGroup(spec) ? spec.commands.flatMap(keys) : Object.keys(spec.options);
    }));
    expect(WRITTEN_PATH_OPTIONS.filter((key) => !declared.has(key))).toEqual([]);
    const problems = problemsOf((container, run) => [
      ...ALWAYS_WRITTEN_OPTIONS.filter((key) => key in run.spec.options && run.values[key] === undefined).map((key) => `fedtl ${run.command} writes to --${flagName(key)}, which it is not given`),
      ...Object.entries(run.values).flatMap(([key, value]) => {
        const written = WRITTEN_PATH_OPTIONS.includes(key);
        if (typeof value !== 'string' || (!written && !value.startsWith('/'))) return [];
        const mounts = container.mounts.filter((mount) => isUnder(value, mount) && (mount.writable || !written));
        return mounts.length > 0 ? [] : [`--${flagName(key)} ${value} is on no ${written ? 'writable ' : ''}volume (${JSON.stringify(container.mounts)})`];
      }),
    ]);
    expect(problems).toEqual([]);
  });
});

describe('the Dockerfiles', () => {
  it.each(Object.entries(IMAGE_DOCKERFILES))('%s: %s builds dist/fedtl, then runs it from a stage with production dependencies only, as an unprivileged user', (image, dockerfile) => {
    const text = readRepoFile(dockerfile);
    expect(text).toContain(`docker build -f ${dockerfile} -t ${image} .`);
    const stages = readDockerfile(text);
    const runtime = stages.at(-1) as DockerStage;
    const build = stages.find((stage) => stage.name !== undefined && runtime.copies.some((copy) => copy.from === stage.name));
    expect(build?.runs.some((run) => /\bnpm run build\b/.test(run))).toBe(true);
    const bundle = runtime.copies.find((copy) => copy.from === build?.name && copy.sources.includes(posix.join(build?.workdir ?? '', 'dist/fedtl')));
    const [launcher] = launcherPaths(runtime);
    // bin/fedtl.js requires ../dist/fedtl/main.js next to itself.
    expect(bundle?.destination).toBe(posix.join(posix.dirname(launcher ?? ''), '..', 'dist', 'fedtl'));
    expect(runtime.entrypoint).toEqual(['node', launcher]);
    expect(runtime.runs.filter((run) => /\bnpm (ci|install)\b/.test(run)).every((run) => /--omit=dev\b/.test(run))).toBe(true);
    expect(runtime.runs.some((run) => /\bnpm ci\b/.test(run))).toBe(true);
    expect(runtime.user).toMatch(/^(?!root$|0$)\S+$/);
  });
});
