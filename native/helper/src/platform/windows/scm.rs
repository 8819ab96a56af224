//! Running under the Service Control Manager as the `CausewayHelper` service (the installer
//! registers it: own process, LocalSystem, automatic start). `run` hands this thread to the
//! SCM's dispatcher, which calls `service_main` on a thread of its own; that reports Running,
//! runs the service body until the SCM says Stop or Shutdown, then reports Stopped with the
//! body's result.

use std::ffi::OsString;
use std::sync::Mutex;
use std::time::Duration;

use windows_service::service::{
    ServiceControl, ServiceControlAccept, ServiceExitCode, ServiceState, ServiceStatus, ServiceType,
};
use windows_service::service_control_handler::{self, ServiceControlHandlerResult};
use windows_service::{define_windows_service, service_dispatcher};

pub const SERVICE_NAME: &str = "CausewayHelper";

/// The service body: runs until the future it is given completes (Stop or Shutdown).
pub type Body = Box<dyn FnOnce(tokio::sync::oneshot::Receiver<()>) -> Result<(), String> + Send>;

static BODY: Mutex<Option<Body>> = Mutex::new(None);

define_windows_service!(ffi_service_main, service_main);

/// Blocks until the service stops. Fails when the process was not started by the SCM.
pub fn run(body: Body) -> Result<(), String> {
    *BODY.lock().unwrap() = Some(body);
    service_dispatcher::start(SERVICE_NAME, ffi_service_main).map_err(|e| {
        format!("not started by the Service Control Manager ({e}); `sc start {SERVICE_NAME}` starts the service")
    })
}

fn status(state: ServiceState, accept: ServiceControlAccept, code: u32) -> ServiceStatus {
    ServiceStatus {
        service_type: ServiceType::OWN_PROCESS,
        current_state: state,
        controls_accepted: accept,
        exit_code: ServiceExitCode::Win32(code),
        checkpoint: 0,
        wait_hint: Duration::from_secs(15),
        process_id: None,
    }
}

fn service_main(_arguments: Vec<OsString>) {
    let Some(body) = BODY.lock().unwrap().take() else {
        return;
    };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
    let stop_tx = Mutex::new(Some(stop_tx));
    let handler = move |control| match control {
        ServiceControl::Stop | ServiceControl::Shutdown => {
            if let Some(tx) = stop_tx.lock().unwrap().take() {
                let _ = tx.send(());
            }
            ServiceControlHandlerResult::NoError
        }
        ServiceControl::Interrogate => ServiceControlHandlerResult::NoError,
        _ => ServiceControlHandlerResult::NotImplemented,
    };
    let handle = match service_control_handler::register(SERVICE_NAME, handler) {
        Ok(h) => h,
        Err(e) => {
            crate::log::error(&format!(
                "cannot register with the Service Control Manager: {e}"
            ));
            return;
        }
    };
    let accept = ServiceControlAccept::STOP | ServiceControlAccept::SHUTDOWN;
    let _ = handle.set_service_status(status(ServiceState::Running, accept, 0));
    let result = body(stop_rx);
    if let Err(e) = &result {
        crate::log::error(e);
    }
    // A body that failed to start reports ERROR_GEN_FAILURE (31); its reason is in the log.
    let code = if result.is_ok() { 0 } else { 31 };
    let _ = handle.set_service_status(status(
        ServiceState::Stopped,
        ServiceControlAccept::empty(),
        code,
    ));
}
