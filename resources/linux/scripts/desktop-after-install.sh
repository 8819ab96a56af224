# Desktop integration of the Electron app (what electron-builder's default afterInstall does;
# this replaces it): the /usr/bin link, Chromium's sandbox, MIME/desktop databases, AppArmor.
# electron-builder replaces ${executable} and ${sanitizedProductName}; shell variables are
# therefore written as $name.
APP_DIR='/opt/${sanitizedProductName}'
EXECUTABLE='${executable}'

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

