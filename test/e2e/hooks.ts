/// <reference types="mocha" />
/**
 * The hooks every e2e file needs: a screenshot after each test (a CI artifact whether it passed
 * or not), the browser console and the server's logs when it failed, and shutdown at the end.
 */
import type { CodeServer } from './codeServer';
import type { Workbench } from './workbench';

export function artifactAndShutdownHooks(session: () => { server?: CodeServer; wb?: Workbench }): void {
  afterEach(async function () {
    const { server, wb } = session();
    const name = `e2e-${this.currentTest?.fullTitle() ?? 'unknown'}`;
    if (wb) await wb.screenshot(name).catch((e) => console.error(`screenshot failed: ${e}`));
    if (this.currentTest?.state === 'failed') {
      if (wb) wb.saveConsole(name);
      if (server) console.error(`    logs: ${server.collectLogs(name)}`);
    }
  });

  after(async function () {
    const { server, wb } = session();
    await wb?.close();
    await server?.stop();
  });
}
