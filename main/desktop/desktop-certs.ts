// The Certificates view's calls over main's CertStore. Electron-free.
import { UserFacingError } from '../../app/ipc/handlers';
import type { CertSummary } from '../../app/ipc/types';
import { CertificateError } from '../certs/certificate';
import type { CertStore } from '../certs/store';
import type { DesktopCerts } from './desktop-service';
import { certSummary } from './views';

function userFacing(err: unknown): never {
  if (err instanceof CertificateError || (err instanceof Error && err.name === 'ProfileStoreError')) {
    throw new UserFacingError('certificate', err.message[0]!.toUpperCase() + err.message.slice(1));
  }
  throw err;
}

export function desktopCerts(store: CertStore, now: () => number = Date.now): DesktopCerts {
  const find = (id: string) => {
    try {
      return store.get(id);
    } catch {
      throw new UserFacingError('no-such-certificate', 'That certificate no longer exists.');
    }
  };
  return {
    list: async () => store.list().map((c) => certSummary(c, now())),
    importPkcs12: (bytes, password, name) => store.importPkcs12(bytes, password, name).then((c) => certSummary(c, now()), userFacing),
    remove: async (id) => {
      find(id);
      await store.remove(id).catch(userFacing);
    },
    attach: async (certId, profileId) => {
      find(certId);
      await store.attach(certId, profileId).catch(userFacing);
    },
    forProfile: async (profileId): Promise<CertSummary | null> => {
      const c = store.list().find((x) => x.attachedTo.includes(profileId));
      return c ? certSummary(c, now()) : null;
    },
  };
}
