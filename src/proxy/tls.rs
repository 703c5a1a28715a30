//! `--upstream-tls`: the proxy speaks TLS to the upstream so that a local plain-HTTP client can
//! watch an `https`/`wss` server, and the decoders see the plaintext.
//!
//! The client side stays plain (the proxy listens on loopback). The upstream certificate is
//! checked against the Mozilla roots (`webpki-roots`) for the upstream host name, or the name
//! given with `--upstream-sni`. `--upstream-insecure` accepts any certificate (self-signed
//! development certificates) while still checking that the handshake is signed by the
//! certificate's key; it is meant for `localhost` only.

use std::sync::Arc;

use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::crypto::{
    ring, verify_tls12_signature, verify_tls13_signature, CryptoProvider,
};
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_rustls::TlsConnector;

/// How to speak TLS to the upstream.
#[derive(Debug, Clone, Default)]
pub struct UpstreamTls {
    /// Server name to send (SNI) and verify; the upstream host when unset.
    pub sni: Option<String>,
    /// Accept any certificate (development only).
    pub insecure: bool,
}

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    /// The server name is not a DNS name or an IP address.
    #[error("{0:?} is not a valid TLS server name")]
    BadName(String),
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Config(String),
}

#[derive(Debug)]
struct AcceptAny(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, tokio_rustls::rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, tokio_rustls::rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, tokio_rustls::rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A connector and the server name to use for every upstream connection.
pub fn connector(
    opts: &UpstreamTls,
    upstream_host: &str,
) -> Result<(TlsConnector, ServerName<'static>), TlsSetupError> {
    let provider = Arc::new(ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsSetupError::Config(e.to_string()))?;
    let config = if opts.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAny(provider)))
            .with_no_client_auth()
    } else {
        let roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    let name = opts.sni.clone().unwrap_or_else(|| {
        upstream_host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string()
    });
    let server_name =
        ServerName::try_from(name.clone()).map_err(|_| TlsSetupError::BadName(name))?;
    Ok((TlsConnector::from(Arc::new(config)), server_name))
}
