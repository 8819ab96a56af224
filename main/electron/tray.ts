// The tray icon and its menu, redrawn from trayModel() whenever a connection or the profile list
// changes.
import { Menu, Tray, nativeImage, type MenuItemConstructorOptions } from 'electron';
import { join } from 'node:path';
import type { TrayIconState, TrayModel } from '../desktop/tray-model';

export interface TrayActions {
  connect(profileId: string): void;
  disconnect(profileId: string): void;
  show(): void;
  quit(): void;
}

export class TrayController {
  private readonly tray: Tray;

  constructor(
    private readonly iconDir: string,
    private readonly actions: TrayActions,
  ) {
    this.tray = new Tray(this.image('disconnected'));
    this.tray.on('click', () => actions.show());
  }

  private image(state: TrayIconState) {
    return nativeImage.createFromPath(join(this.iconDir, `tray-${state}.png`));
  }

  update(model: TrayModel): void {
    this.tray.setImage(this.image(model.icon));
    this.tray.setToolTip(model.tooltip);
    const template: MenuItemConstructorOptions[] = model.items.map((item) => {
      switch (item.kind) {
        case 'profile':
          return {
            label: item.label,
            enabled: item.enabled,
            click: () => (item.action === 'connect' ? this.actions.connect(item.profileId) : this.actions.disconnect(item.profileId)),
          };
        case 'separator':
          return { type: 'separator' };
        case 'show':
          return { label: 'Open Causeway', click: () => this.actions.show() };
        case 'quit':
          return { label: 'Quit', click: () => this.actions.quit() };
      }
    });
    this.tray.setContextMenu(Menu.buildFromTemplate(template));
  }

  destroy(): void {
    this.tray.destroy();
  }
}
