#!/bin/bash
# Causeway package post-removal: deb postrm ("remove", "purge", "upgrade", ...) and rpm
# %postun (0 = erase, 1 = upgrade), given to electron-builder as deb/rpm afterRemove.
# ${executable} is replaced by electron-builder. The `causeway` group is kept (a system group
# may own files elsewhere; deleting groups on removal is not done by distributions).
APP_DIR='/opt/${sanitizedProductName}'
EXECUTABLE='${executable}'

case "$1" in
  remove|purge|0)
    if type update-alternatives >/dev/null 2>&1; then
      update-alternatives --remove "$EXECUTABLE" "$APP_DIR/$EXECUTABLE" || true
    fi
    # A plain link (no update-alternatives) or one left behind.
    if [ -L "/usr/bin/$EXECUTABLE" ]; then rm -f "/usr/bin/$EXECUTABLE"; fi
    if [ -f "/etc/apparmor.d/$EXECUTABLE" ]; then
      if apparmor_status --enabled >/dev/null 2>&1 && ! { [ -x /usr/bin/ischroot ] && /usr/bin/ischroot; }; then
        apparmor_parser --remove "/etc/apparmor.d/$EXECUTABLE" || true
      fi
      rm -f "/etc/apparmor.d/$EXECUTABLE"
    fi
    if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
    ;;
esac
# purge: the DNS journal and crash records go too (the service is stopped by now).
if [ "$1" = purge ]; then
  rm -rf /var/lib/causeway
fi
exit 0
