// Messages the user must read and acknowledge: the AWS login banner and other server messages,
// and the notices before and when the server ends the session.
import type { Banner } from '../../../app/ipc/types';
import { clockTime } from '../format';
import { Modal } from './Modal';

interface Props {
  banner: Banner;
  onAcknowledge(): void;
}

function title(b: Banner): string {
  switch (b.kind) {
    case 'server-message':
      return `Message from ${b.profileName}`;
    case 'session-ending':
      return `Your ${b.profileName} session ends soon`;
    case 'session-ended':
      return `Your ${b.profileName} session has ended`;
  }
}

export function BannerDialog({ banner, onAcknowledge }: Props) {
  return (
    <Modal title={title(banner)} role="alertdialog">
      <p className="banner-text">{banner.text}</p>
      <p className="muted small">Received at {clockTime(banner.at)}</p>
      <div className="actions">
        <button type="button" className="button primary" onClick={onAcknowledge} data-autofocus>
          OK
        </button>
      </div>
    </Modal>
  );
}
