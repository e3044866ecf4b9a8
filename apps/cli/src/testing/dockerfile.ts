// A reader of Dockerfile instructions for the deployment files' spec: enough of the format for fedtl's own
// Dockerfiles (comments, line continuations, the JSON and shell forms), and nothing it does not understand
// passes silently. No maintained Dockerfile parser is among the project's packages, and this much is small.
import { posix } from 'node:path';

/** One build stage: its base, its name, and what the checks read of its instructions. */
export interface DockerStage {
  from: string;
  name?: string;
  workdir: string;
  user?: string;
  env: Record<string, string>;
  runs: string[];
  copies: Array<{ from?: string; sources: string[]; destination: string }>;
  expose: number[];
  volumes: string[];
  entrypoint?: string[];
  cmd?: string[];
}

const DOCKER_INSTRUCTIONS = new Set(['FROM', 'WORKDIR', 'USER', 'ENV', 'ARG', 'RUN', 'COPY', 'EXPOSE', 'VOLUME', 'ENTRYPOINT', 'CMD']);

/**
 * The stages of a Dockerfile, in order (the last one is the image).
 * @throws Error for an instruction it does not know, or one before FROM.
 */
export function readDockerfile(text: string): DockerStage[] {
  const stages: DockerStage[] = [];
  const lines: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    if (/^\s*#/.test(raw)) continue; // comments are whole lines, also inside a continued instruction
    const continued = /\\\s*$/.test(raw);
    pending += (pending ? ' ' : '') + raw.replace(/\\\s*$/, '').trim();
    if (!continued) {
      if (pending.trim()) lines.push(pending.trim());
      pending = '';
    }
  }
  for (const line of lines) {
    const [, keyword, rest] = /^(\S+)\s*(.*)$/.exec(line) as RegExpExecArray;
    const instruction = keyword.toUpperCase();
    if (!DOCKER_INSTRUCTIONS.has(instruction)) throw new Error(`Dockerfile: ${instruction} is not an instruction this reader knows`);
    if (instruction === 'FROM') {
      const [from, as, name] = rest.split(/\s+/);
      stages.push({ from, name: as?.toUpperCase() === 'AS' ? name : undefined, workdir: '/', env: {}, runs: [], copies: [], expose: [], volumes: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`Dockerfile: ${instruction} before FROM`);
    switch (instruction) {
      case 'WORKDIR':
        stage.workdir = posix.resolve(stage.workdir, rest);
        break;
      case 'USER':
        stage.user = rest;
        break;
      case 'ENV':
        Object.assign(stage.env, readEnv(rest));
        break;
      case 'RUN':
        stage.runs.push(rest);
        break;
      case 'COPY': {
        const words = jsonOrWords(rest);
        const from = words.find((word) => word.startsWith('--from='))?.slice('--from='.length);
        const paths = words.filter((word) => !word.startsWith('--'));
        stage.copies.push({ from, sources: paths.slice(0, -1), destination: posix.resolve(stage.workdir, paths.at(-1) as string) });
        break;
      }
      case 'EXPOSE':
        stage.expose.push(...rest.split(/\s+/).map((port) => Number(port.replace(/\/(tcp|udp)$/, ''))));
        break;
      case 'VOLUME':
        stage.volumes.push(...jsonOrWords(rest));
        break;
      case 'ENTRYPOINT':
      case 'CMD': {
        // The shell form runs under /bin/sh -c, as Docker does.
        const command = rest.startsWith('[') ? (JSON.parse(rest) as string[]) : ['/bin/sh', '-c', rest];
        if (instruction === 'ENTRYPOINT') {
          stage.entrypoint = command;
          stage.cmd = undefined; // Docker resets an inherited CMD when ENTRYPOINT is set
        } else {
          stage.cmd = command;
        }
        break;
      }
    }
  }
  return stages;
}

function jsonOrWords(text: string): string[] {
  return text.startsWith('[') ? (JSON.parse(text) as string[]) : text.split(/\s+/).filter(Boolean);
}

/** `ENV A=1 B=2` or the legacy `ENV A 1`; values unquoted. */
function readEnv(text: string): Record<string, string> {
  if (!/^\S+=/.test(text)) {
    const [, name, value] = /^(\S+)\s+(.*)$/.exec(text) as RegExpExecArray;
    return { [name]: value };
  }
  return Object.fromEntries(text.split(/\s+/).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1).replace(/^"(.*)"$/, '$1')]));
}
