# The helper service's half of the post-installation script: deb postinst ("configure") and
# rpm %post (1 = install, 2 = upgrade). Shared by the desktop app's packages (electron-builder)
# and the causeway packages (nfpm); scripts/linux-package-scripts.mjs puts the scripts together.
GROUP=causeway
UNIT=causeway-helper.service

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

# --- the helper service -----------------------------------------------------------------
# Only when systemd runs (not in a chroot or an image build).
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload || true
  systemctl enable "$UNIT" || true
  # restart: starts a fresh install and picks up the new helper on upgrade.
  systemctl restart "$UNIT" || echo "Causeway: could not start $UNIT; see journalctl -u $UNIT" >&2
fi
