// `npm run client -- …`: one organisation's client process. Its exit status says how the run went
// (exit-codes.ts): 0 only when the coordinator's verdict is that the run finished.
import { runAsClientProcess, runClient } from './client-process';

runAsClientProcess(() => runClient(process.argv.slice(2), process.env));
