import { readDockerfile } from './dockerfile';

describe('the Dockerfile reader', () => {
  it('reads stages, both forms of ENTRYPOINT/CMD, ENV, COPY --from, EXPOSE and VOLUME, across continued lines', () => {
    const stages = readDockerfile(
      [
        'FROM node:20 AS build',
        'WORKDIR /src',
        '# a comment',
        'RUN npm ci \\',
        '  # inside a continuation',
        ' && npm run build',
        'FROM node:20-slim',
        'WORKDIR /app',
        'ENV A=1 B="two"',
        'COPY --from=build /src/dist dist',
        'COPY bin/x.js ./bin/',
        'EXPOSE 8080/tcp',
        'VOLUME ["/data"]',
        'USER node',
        'ENTRYPOINT ["node", "/app/bin/x.js"]',
        'CMD serve --port 1',
      ].join('\n'),
    );
    expect(stages).toHaveLength(2);
    expect(stages[0]).toMatchObject({ from: 'node:20', name: 'build', workdir: '/src', runs: ['npm ci && npm run build'] });
    expect(stages[1]).toMatchObject({
      from: 'node:20-slim',
      workdir: '/app',
      env: { A: '1', B: 'two' },
      copies: [
        { from: 'build', sources: ['/src/dist'], destination: '/app/dist' },
        { sources: ['bin/x.js'], destination: '/app/bin' },
      ],
      expose: [8080],
      volumes: ['/data'],
      user: 'node',
      entrypoint: ['node', '/app/bin/x.js'],
      cmd: ['/bin/sh', '-c', 'serve --port 1'],
    });
    expect(() => readDockerfile('FROM x\nHEALTHCHECK NONE')).toThrow(/HEALTHCHECK/);
  });
});
