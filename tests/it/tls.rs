//! HTTPS served directly (issue 18), over loopback with certificates made in the test: a signed
//! call over HTTP/1.1 and HTTP/2 (ALPN) through a client that trusts only that certificate, a
//! reload that swaps the certificate for new connections, a client that names no ALPN protocol
//! served HTTP/1.1, a stalled handshake closed, plain HTTP to the TLS port not hanging, and a
//! mismatched key refused at start-up.

use std::path::{Path, PathBuf};
use std::time::Duration;

use moveo_dialog::serve::{Tls, TlsError};
use moveo_dialog::verify::{Secret, sign};
use moveo_dialog::{Reply, Router, Server};
use rcgen::{CertificateParams, KeyPair, SerialNumber};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{TOKEN, TestServer, call_body, signed_raw_to};

struct Made {
    cert_pem: String,
    key_pem: String,
    der: Vec<u8>,
}

fn make_cert(serial: u64) -> Made {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    params.serial_number = Some(SerialNumber::from(serial));
    let cert = params.self_signed(&key).unwrap();
    Made { cert_pem: cert.pem(), key_pem: key.serialize_pem(), der: cert.der().to_vec() }
}

fn dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("moveo-dialog-tls-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, made: &Made) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, &made.cert_pem).unwrap();
    std::fs::write(&key, &made.key_pem).unwrap();
    (cert, key)
}

fn router() -> Router {
    Router::new().verify_token(TOKEN).fallback(|| async { Reply::text("over TLS") })
}

/// A client that trusts only `made`'s certificate.
fn client(made: &Made, http2: bool) -> reqwest::Client {
    let builder = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(made.cert_pem.as_bytes()).unwrap())
        .tls_info(true)
        .timeout(Duration::from_secs(20));
    let builder = if http2 { builder } else { builder.http1_only() };
    builder.build().unwrap()
}

async fn signed_call(client: &reqwest::Client, addr: std::net::SocketAddr) -> reqwest::Response {
    let body = call_body(None, &[]);
    client
        .post(format!("https://localhost:{}/webhook", addr.port()))
        .header("content-type", "application/json")
        .header("x-moveo-signature", sign(&Secret::new(TOKEN), &body))
        .body(body)
        .send()
        .await
        .unwrap()
}

fn peer_certificate(response: &reqwest::Response) -> Vec<u8> {
    let info = response.extensions().get::<reqwest::tls::TlsInfo>().expect("TLS info");
    info.peer_certificate().expect("a certificate").to_vec()
}

#[tokio::test]
async fn a_signed_call_over_https_http1_and_http2_and_a_reload_for_new_connections() {
    let first = make_cert(1);
    let files = dir("serve");
    let (cert, key) = write(&files, &first);
    let tls = Tls::from_pem_files(&cert, &key).unwrap();
    let server = TestServer::start(Server::new(router()).tls(tls.clone())).await;

    for http2 in [false, true] {
        let response = signed_call(&client(&first, http2), server.addr).await;
        let version = if http2 { reqwest::Version::HTTP_2 } else { reqwest::Version::HTTP_11 };
        assert_eq!(response.version(), version, "ALPN");
        assert_eq!(peer_certificate(&response), first.der);
        assert_eq!(response.status(), 200);
        let reply: serde_json::Value = response.json().await.unwrap();
        assert_eq!(reply["responses"][0]["texts"][0], "over TLS");
    }

    // A reload that fails (a key that is not the certificate's) keeps the old certificate.
    let second = make_cert(2);
    std::fs::write(&cert, &second.cert_pem).unwrap();
    let failed = tls.reload().unwrap_err();
    assert!(matches!(failed, TlsError::KeyMismatch { .. }), "{failed}");
    let response = signed_call(&client(&first, false), server.addr).await;
    assert_eq!(peer_certificate(&response), first.der, "still the old certificate");

    // With both files new, new connections get the new certificate (serial 2).
    std::fs::write(&key, &second.key_pem).unwrap();
    tls.reload().unwrap();
    let response = signed_call(&client(&second, false), server.addr).await;
    assert_eq!(response.status(), 200);
    assert_eq!(peer_certificate(&response), second.der);
    let _ = std::fs::remove_dir_all(&files);
}

#[tokio::test]
async fn a_stalled_handshake_is_closed_and_plain_http_does_not_hang() {
    let made = make_cert(3);
    let files = dir("stall");
    let (cert, key) = write(&files, &made);
    let idle = Duration::from_secs(1);
    let server =
        TestServer::start(Server::new(router()).tls(Tls::from_pem_files(cert, key).unwrap()).header_read_timeout(idle))
            .await;

    // A client that opens TCP, sends the first bytes of a TLS ClientHello, and stalls.
    let mut stalled = TcpStream::connect(server.addr).await.unwrap();
    stalled.write_all(&[0x16, 0x03, 0x01, 0x00, 0xa5, 0x01]).await.unwrap();
    let mut buffer = [0u8; 256];
    let closed = tokio::time::timeout(idle + Duration::from_secs(2), async {
        while matches!(stalled.read(&mut buffer).await, Ok(read) if read > 0) {}
    })
    .await;
    assert!(closed.is_ok(), "the stalled handshake was closed within the idle timeout + 2 s");

    // Plain HTTP to the TLS port: the handshake fails at once and the connection closes.
    let mut plain = TcpStream::connect(server.addr).await.unwrap();
    plain.write_all(b"POST /webhook HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}").await.unwrap();
    let answered = tokio::time::timeout(Duration::from_secs(5), async {
        while matches!(plain.read(&mut buffer).await, Ok(read) if read > 0) {}
    })
    .await;
    assert!(answered.is_ok(), "plain HTTP to the TLS port does not hang");
    let _ = std::fs::remove_dir_all(&files);
}

#[test]
fn start_up_refuses_missing_files_bad_keys_and_mismatched_keys_naming_the_file() {
    let files = dir("refuse");
    let first = make_cert(4);
    let second = make_cert(5);
    let (cert, key) = write(&files, &first);
    std::fs::write(&key, &second.key_pem).unwrap();
    let mismatch = Tls::from_pem_files(&cert, &key).unwrap_err();
    assert!(mismatch.to_string().contains("does not match the certificate"), "{mismatch}");
    assert!(mismatch.to_string().contains(&key.display().to_string()), "{mismatch}");

    let missing = Tls::from_pem_files(files.join("nope.pem"), &key).unwrap_err();
    assert!(missing.to_string().contains("nope.pem"), "{missing}");
    std::fs::write(&key, "not a key").unwrap();
    let bad = Tls::from_pem_files(&cert, &key).unwrap_err();
    assert!(matches!(bad, TlsError::BadKey { .. }), "{bad}");
    std::fs::write(&cert, "not a certificate").unwrap();
    assert!(matches!(Tls::from_pem_files(&cert, &key).unwrap_err(), TlsError::NoCertificate { .. }));
    let _ = std::fs::remove_dir_all(&files);
}

#[test]
fn the_examples_serve_https_with_both_settings_and_refuse_one_without_the_other() {
    use moveo_dialog_examples::tls_from;
    let files = dir("env");
    let made = make_cert(6);
    let (cert, key) = write(&files, &made);
    let (cert, key) = (cert.display().to_string(), key.display().to_string());
    let settings = |pairs: Vec<(&'static str, String)>| {
        move |name: &str| pairs.iter().find(|(key, _)| *key == name).map(|(_, value)| value.clone())
    };
    assert!(tls_from(settings(vec![])).unwrap().is_none(), "plain HTTP without either");
    let both = vec![("MOVEO_TLS_CERT", cert.clone()), ("MOVEO_TLS_KEY", key.clone())];
    assert!(tls_from(settings(both)).unwrap().is_some());
    let only_cert = tls_from(settings(vec![("MOVEO_TLS_CERT", cert)])).unwrap_err();
    assert!(only_cert.contains("MOVEO_TLS_KEY is missing"), "{only_cert}");
    let only_key = tls_from(settings(vec![("MOVEO_TLS_KEY", key)])).unwrap_err();
    assert!(only_key.contains("MOVEO_TLS_CERT is missing"), "{only_key}");
    let _ = std::fs::remove_dir_all(&files);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reads_the_certificate_files_again() {
    let first = make_cert(7);
    let files = dir("sighup");
    let (cert, key) = write(&files, &first);
    let (mut child, addr) =
        crate::hostile::spawn_server(&["dialog-tls", cert.to_str().unwrap(), key.to_str().unwrap()]).await;
    let call = |made: &Made| {
        let client = client(made, false);
        async move {
            let body = call_body(Some("fast"), &[]);
            client
                .post(format!("https://localhost:{}/webhook", addr.port()))
                .header("content-type", "application/json")
                .header("x-moveo-signature", sign(&Secret::new("hostile-secret"), &body))
                .body(body)
                .send()
                .await
        }
    };
    assert_eq!(peer_certificate(&call(&first).await.unwrap()), first.der);
    let second = make_cert(8);
    write(&files, &second);
    crate::hostile::signal(&child, "-HUP");
    // The reload happens in the server's own time: poll (bounded) until new connections see it.
    let mut swapped = false;
    for _ in 0..100 {
        if let Ok(response) = call(&second).await {
            assert_eq!(peer_certificate(&response), second.der);
            swapped = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(swapped, "after SIGHUP, new connections get the new certificate");
    assert!(child.try_wait().unwrap().is_none(), "SIGHUP does not stop the server");
    child.kill().await.unwrap();
    let _ = std::fs::remove_dir_all(&files);
}

#[tokio::test]
async fn a_tls_client_that_names_no_protocol_is_served_http1() {
    let made = make_cert(4);
    let files = dir("no-alpn");
    let (cert, key) = write(&files, &made);
    let server = TestServer::start(Server::new(router()).tls(Tls::from_pem_files(cert, key).unwrap())).await;

    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    roots.add(made.der.clone().into()).unwrap();
    let provider = std::sync::Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = tokio_rustls::rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    assert!(config.alpn_protocols.is_empty(), "no ALPN");
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = TcpStream::connect(server.addr).await.unwrap();
    let name = tokio_rustls::rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut stream = connector.connect(name, tcp).await.unwrap();
    assert_eq!(stream.get_ref().1.alpn_protocol(), None);

    stream.write_all(&signed_raw_to("/webhook", TOKEN, &call_body(None, &[]), "connection: close\r\n")).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await.unwrap();
    // A peer that closes without close_notify is a clean end here: the whole answer is in.
    if let Err(err) = read {
        assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof, "{err}");
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("over TLS"), "{answer}");
    let _ = std::fs::remove_dir_all(&files);
}
