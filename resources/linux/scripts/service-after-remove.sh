# The helper service's half of the post-removal script: deb postrm ("remove", "purge",
# "upgrade", ...) and rpm %postun (0 = erase, 1 = upgrade). The `causeway` group is kept (a
# system group may own files elsewhere; distributions do not delete groups on removal).
case "$1" in
  remove|purge|0)
    if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
    ;;
esac
# purge: the DNS journal and crash records go too (the service is stopped by now).
if [ "$1" = purge ]; then
  rm -rf /var/lib/causeway
fi
