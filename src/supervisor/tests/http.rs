//! The core's answers on the HTTP endpoint: `/healthz`, `/ready` while a service is
//! starting and after, `/status` as `phoenixctl --json status`, 404 for the rest.

use super::*;
use crate::control::protocol::{Reply, Request, ServiceStatus};
use crate::core::Core;

fn get(shell: &mut Shell, path: &str) -> (u16, String, String) {
    let now = shell.now;
    let event = Event::HttpRequest {
        client: 3,
        path: path.to_string(),
    };
    match shell.supervisor.step(event, now).as_slice() {
        [
            Action::HttpReply {
                client: 3,
                status,
                content_type,
                body,
            },
        ] => (*status, content_type.clone(), body.clone()),
        actions => panic!("{actions:?}"),
    }
}

fn boot() -> Shell {
    Shell::boot(&[
        (
            "web",
            "command = \"web\"\n[ready]\ncheck = \"notify\"\ntimeout = \"1h\"",
        ),
        ("db", "command = \"db\""),
        ("spare", "command = \"spare\"\nenabled = false"),
    ])
}

#[test]
fn healthz_is_ok_and_unknown_paths_are_not_found() {
    let mut shell = boot();
    let text = "text/plain; charset=utf-8".to_string();
    assert_eq!(
        get(&mut shell, "/healthz"),
        (200, text.clone(), "ok\n".into())
    );
    assert_eq!(
        get(&mut shell, "/nope"),
        (404, text, "no such path: /nope\n".into())
    );
}

#[test]
fn ready_is_503_with_the_services_not_ready_and_200_when_all_are() {
    let mut shell = boot();
    let (status, _, body) = get(&mut shell, "/ready");
    assert_eq!((status, body.as_str()), (503, "web: starting\n"));
    let mut settled = Shell::boot(&[
        ("db", "command = \"db\""),
        ("off", "command = \"x\"\nenabled = false"),
    ]);
    let text = "text/plain; charset=utf-8".to_string();
    assert_eq!(get(&mut settled, "/ready"), (200, text, "ready\n".into()));
}

#[test]
fn status_is_the_json_of_phoenixctl_status() {
    let mut shell = boot();
    let (status, content_type, body) = get(&mut shell, "/status");
    assert_eq!((status, content_type.as_str()), (200, "application/json"));
    let served: Vec<ServiceStatus> = serde_json::from_str(&body).unwrap();
    let Reply::Status { services } = send_request(&mut shell, Request::Status { name: None })
    else {
        panic!()
    };
    assert_eq!(served, services);
    assert_eq!(served.len(), 3);
}
