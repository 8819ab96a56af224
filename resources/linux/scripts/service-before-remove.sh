# The helper service's pre-removal script: deb prerm ("remove", "upgrade", ...) and rpm %preun
# (0 = erase, 1 = upgrade), the same for every package that carries the service. On removal
# the service is stopped first: stopping it ends every session, which removes their routes,
# DNS settings and firewall rules while the helper binary is still there. On upgrade the new
# package restarts it.
UNIT=causeway-helper.service

case "$1" in
  remove|purge|deconfigure|0)
    if [ -d /run/systemd/system ]; then
      systemctl stop "$UNIT" || true
      systemctl disable "$UNIT" || true
    fi
    ;;
esac

