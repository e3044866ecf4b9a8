// A malicious client for benchmarks of robust aggregation: the real client process (`fedtl client`, the same
// flags, data loading, training thread and honest evaluation) that sends −S × its honest delta every round, the
// scaled sign-flip attack of Blanchard et al., "Machine Learning with Adversaries: Byzantine Tolerant Gradient
// Descent" (NeurIPS 2017, https://proceedings.neurips.cc/paper/2017/hash/f4b9ec30ad9f68f89b29639786cb62ef-Abstract.html).
// Not part of the client's CLI: only `bench strategies` starts it, as
//   tsx apps/client/src/testing/sign-flip-main.ts --sign-flip-scale S <client flags…>
import { runAsClientProcess, runClient } from '../client-process';
import { signFlip, takeSignFlipScale } from './sign-flip';

runAsClientProcess(async () => {
  const { scale, rest } = takeSignFlipScale(process.argv.slice(2));
  return runClient(rest, process.env, { tamperUpdate: signFlip(scale) });
});
