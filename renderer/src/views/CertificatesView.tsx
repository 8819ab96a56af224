// Client certificates: import a PKCS#12 file with its password, see details and expiry, attach
// one to a profile that needs it, remove.
import { useState, type FormEvent } from 'react';
import type { AppSnapshot, CertSummary } from '../../../app/ipc/types';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { useServices } from '../context';
import { expiryWords } from '../format';

export function CertificatesView({ snapshot }: { snapshot: AppSnapshot }) {
  return (
    <section aria-labelledby="certs-title">
      <div className="view-head">
        <h1 id="certs-title">Certificates</h1>
      </div>
      <p className="muted hint">Client certificates your profiles can use. Their private keys are kept in the system keyring.</p>
      <ImportCertForm />
      {snapshot.certs.length === 0 ? (
        <p className="muted">No certificates yet. Profiles that carry their own certificate do not need one here.</p>
      ) : (
        snapshot.certs.map((c) => <CertCard key={c.id} cert={c} snapshot={snapshot} />)
      )}
    </section>
  );
}

function ImportCertForm() {
  const { bridge, report } = useServices();
  const [file, setFile] = useState<File | null>(null);
  const [password, setPassword] = useState('');
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const [formKey, setFormKey] = useState(0);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!file) return;
    setBusy(true);
    setDone(null);
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      const cert = await bridge.importCert(bytes, password, name.trim() || file.name.replace(/\.(p12|pfx)$/i, ''));
      setDone(`Imported “${cert.name}”.`);
      setFile(null);
      setPassword('');
      setName('');
      setFormKey((k) => k + 1);
    } catch (err) {
      report(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form key={formKey} className="card form" onSubmit={submit} aria-labelledby="cert-import-title">
      <h2 id="cert-import-title">Import a certificate</h2>
      <label className="field">
        <span>PKCS#12 file (.p12 or .pfx)</span>
        <input type="file" accept=".p12,.pfx,application/x-pkcs12" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
      </label>
      <label className="field">
        <span>File password</span>
        <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="off" />
      </label>
      <label className="field">
        <span>Name (optional)</span>
        <input value={name} onChange={(e) => setName(e.target.value)} maxLength={200} />
      </label>
      <div className="actions">
        {done && (
          <span className="good-text" role="status">
            {done}
          </span>
        )}
        <button type="submit" className="button primary" disabled={!file || busy}>
          {busy ? 'Importing…' : 'Import certificate'}
        </button>
      </div>
    </form>
  );
}

function CertCard({ cert, snapshot }: { cert: CertSummary; snapshot: AppSnapshot }) {
  const { bridge, report } = useServices();
  const candidates = snapshot.profiles.filter((p) => !cert.attachedTo.includes(p.id) && (p.needsCertificate || !p.hasCertificate));
  const [target, setTarget] = useState('');
  const [confirm, setConfirm] = useState(false);
  const names = cert.attachedTo.map((id) => snapshot.profiles.find((p) => p.id === id)?.name ?? id);
  const selectId = `attach-${cert.id}`;
  return (
    <article className="card cert" aria-label={cert.name}>
      <h3>{cert.name}</h3>
      <dl className="details">
        <dt>Subject</dt>
        <dd>{cert.subject}</dd>
        <dt>Issuer</dt>
        <dd>{cert.issuer}</dd>
        <dt>Validity</dt>
        <dd className={cert.expiry === 'valid' ? '' : 'warn-text'}>{expiryWords(cert.expiry, cert.notAfter)}</dd>
        <dt>Key</dt>
        <dd>{cert.keyType}</dd>
        <dt>SHA-256</dt>
        <dd className="mono wrap">{cert.fingerprintSha256}</dd>
        <dt>Used by</dt>
        <dd>{names.length ? names.join(', ') : 'No profile'}</dd>
      </dl>
      <div className="card-actions">
        {candidates.length > 0 && (
          <form
            className="inline"
            onSubmit={(e) => {
              e.preventDefault();
              if (target) bridge.attachCert(cert.id, target).catch(report);
            }}
          >
            <label htmlFor={selectId}>Attach to</label>
            <select id={selectId} value={target} onChange={(e) => setTarget(e.target.value)}>
              <option value="">Choose a profile…</option>
              {candidates.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </select>
            <button type="submit" className="button small" disabled={!target}>
              Attach
            </button>
          </form>
        )}
        <button type="button" className="link danger" onClick={() => setConfirm(true)}>
          Remove
        </button>
      </div>
      {confirm && (
        <ConfirmDialog
          title={`Remove “${cert.name}”?`}
          confirmLabel="Remove"
          onCancel={() => setConfirm(false)}
          onConfirm={() => {
            setConfirm(false);
            bridge.removeCert(cert.id).catch(report);
          }}
        >
          <p>{names.length ? `Profiles using it (${names.join(', ')}) will need another certificate.` : 'No profile uses it.'}</p>
        </ConfirmDialog>
      )}
    </article>
  );
}
