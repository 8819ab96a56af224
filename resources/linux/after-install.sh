#!/bin/bash
# Causeway package post-installation: deb postinst ("configure") and rpm %post (1 = install,
# 2 = upgrade), given to electron-builder as deb/rpm afterInstall. electron-builder replaces
# ${executable} and ${sanitizedProductName}; shell variables are therefore written as $name.
#
# 1. desktop integration (what electron-builder's default script does; this one replaces it)
# 2. the `causeway` group (systemd-sysusers) and the installing user in it
# 3. the helper service: enabled and (re)started
set -e

APP_DIR='/opt/${sanitizedProductName}'
EXECUTABLE='${executable}'
GROUP=causeway
UNIT=causeway-helper.service

# --- 1. desktop integration --------------------------------------------------------------
if type update-alternatives >/dev/null 2>&1; then
  if [ -L "/usr/bin/$EXECUTABLE" ] && [ "$(readlink "/usr/bin/$EXECUTABLE")" != "/etc/alternatives/$EXECUTABLE" ]; then
    rm -f "/usr/bin/$EXECUTABLE"
  fi
  update-alternatives --install "/usr/bin/$EXECUTABLE" "$EXECUTABLE" "$APP_DIR/$EXECUTABLE" 100 ||
    ln -sf "$APP_DIR/$EXECUTABLE" "/usr/bin/$EXECUTABLE"
else
  ln -sf "$APP_DIR/$EXECUTABLE" "/usr/bin/$EXECUTABLE"
fi

# Chromium's sandbox: SUID helper only where unprivileged user namespaces do not work.
if [ -e "$APP_DIR/chrome-sandbox" ]; then
  if [ -L /proc/self/ns/user ] && unshare --user true 2>/dev/null; then
    chmod 0755 "$APP_DIR/chrome-sandbox" || true
  else
    chmod 4755 "$APP_DIR/chrome-sandbox" || true
  fi
fi
if hash update-mime-database 2>/dev/null; then update-mime-database /usr/share/mime || true; fi
if hash update-desktop-database 2>/dev/null; then update-desktop-database /usr/share/applications || true; fi

# Ubuntu 24.04+ restricts unprivileged user namespaces; the profile lets the GUI's sandbox use them.
if apparmor_status --enabled >/dev/null 2>&1 && [ -f "$APP_DIR/resources/apparmor-profile" ]; then
  if apparmor_parser --skip-kernel-load --debug "$APP_DIR/resources/apparmor-profile" >/dev/null 2>&1; then
    cp -f "$APP_DIR/resources/apparmor-profile" "/etc/apparmor.d/$EXECUTABLE"
    if ! { [ -x /usr/bin/ischroot ] && /usr/bin/ischroot; }; then
      apparmor_parser --replace --write-cache --skip-read-cache "/etc/apparmor.d/$EXECUTABLE" || true
    fi
  fi
fi

# --- 2. the group and the installing user --------------------------------------------------
if hash systemd-sysusers 2>/dev/null; then
  systemd-sysusers /usr/lib/sysusers.d/causeway.conf
elif ! getent group "$GROUP" >/dev/null; then
  groupadd --system "$GROUP"
fi

# The person who ran `sudo apt install` / `pkexec` / `sudo dnf install` gets to use the VPN
# without root. Others are added by an administrator: usermod -aG causeway <user>.
installing_user=""
if [ -n "$PKEXEC_UID" ] && [ "$PKEXEC_UID" != 0 ]; then
  installing_user="$(getent passwd "$PKEXEC_UID" | cut -d: -f1)"
elif [ -n "$SUDO_USER" ] && [ "$SUDO_USER" != root ]; then
  installing_user="$SUDO_USER"
fi
if [ -n "$installing_user" ] && getent passwd "$installing_user" >/dev/null; then
  if ! id -nG "$installing_user" | tr ' ' '\n' | grep -qx "$GROUP"; then
    # Not fatal: the package works without it, an administrator can add the user later.
    if usermod -aG "$GROUP" "$installing_user"; then
      echo "Causeway: added $installing_user to the $GROUP group; log out and back in to connect without a password."
    else
      echo "Causeway: could not add $installing_user to the $GROUP group; run: usermod -aG $GROUP $installing_user" >&2
    fi
  fi
fi

# --- 3. the helper service -----------------------------------------------------------------
# Only when systemd runs (not in a chroot or an image build).
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload || true
  systemctl enable "$UNIT" || true
  # restart: starts a fresh install and picks up the new helper on upgrade.
  systemctl restart "$UNIT" || echo "Causeway: could not start $UNIT; see journalctl -u $UNIT" >&2
fi
exit 0
