; Causeway NSIS hooks (electron-builder nsis.include): the helper as a Windows service,
; registered per machine, started at boot, run as LocalSystem. See service.md.
!macro customInstall
  ; An older helper may be running; stopping it ends its sessions cleanly.
  nsExec::Exec 'sc.exe stop CausewayHelper'
  nsExec::Exec 'sc.exe delete CausewayHelper'
  ; Members of `causeway` may use the service's pipe (its DACL names the group's SID); the
  ; installing user becomes one. Already existing is fine.
  nsExec::Exec 'net.exe localgroup causeway /add /comment:"May use the Causeway VPN helper"'
  nsExec::Exec 'net.exe localgroup causeway "$%USERNAME%" /add'
  nsExec::ExecToLog 'sc.exe create CausewayHelper binPath= "\"$INSTDIR\resources\bin\causeway-helper.exe\" --service" start= auto obj= LocalSystem DisplayName= "Causeway VPN helper"'
  nsExec::ExecToLog 'sc.exe description CausewayHelper "Carries Causeway VPN tunnels: TUN adapter, routes, DNS and leak protection."'
  nsExec::ExecToLog 'sc.exe failure CausewayHelper reset= 60 actions= restart/1000/restart/5000/none/0'
  nsExec::ExecToLog 'sc.exe start CausewayHelper'
!macroend

!macro customUnInstall
  nsExec::ExecToLog 'sc.exe stop CausewayHelper'
  nsExec::ExecToLog 'sc.exe delete CausewayHelper'
!macroend
