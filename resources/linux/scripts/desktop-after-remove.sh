# The desktop app's half of the post-removal script: deb postrm ("remove", "purge", "upgrade",
# ...) and rpm %postun (0 = erase, 1 = upgrade). ${executable} and ${sanitizedProductName} are
# replaced by electron-builder.
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
    ;;
esac

