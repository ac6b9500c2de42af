//! A loopback OIDC identity provider for `tests/auth.rs`: discovery + JWKS served by actix-web on
//! 127.0.0.1, keys generated at runtime with aws-lc-rs (RSA 2048, EC P-256), token minting, and
//! hit counters so tests can assert how often the gateway fetched keys.
#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod http;

use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{SystemTime, UNIX_EPOCH},
};

use actix_web::{App, HttpResponse, HttpServer, dev::ServerHandle, web};
use aws_lc_rs::{
    encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der},
    rand::SystemRandom,
    rsa::{KeyPair as RsaKeyPair, KeySize},
    signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair},
};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode, jwk::Jwk};
use serde_json::{Value, json};

/// The audience every test gateway accepts.
pub const AUDIENCE: &str = "llm-gateway-tests";

/// A signing key and its public JWK.
pub struct TestKey {
    pub kid: String,
    pub alg: Algorithm,
    pub encoding: EncodingKey,
    /// The public JWK as served (with `kid`; with `alg` unless `without_alg`).
    pub jwk: Value,
    /// Public key bytes an attacker knows (PEM for RSA, the raw point for EC): HMAC bait.
    pub public_bytes: Vec<u8>,
}

impl TestKey {
    /// A fresh RSA 2048 key (PKCS#8 → PEM, since `from_rsa_der` wants PKCS#1).
    pub fn rsa(kid: &str, alg: Algorithm) -> Self {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        let der: Pkcs8V1Der = pair.as_der().unwrap();
        let pem = pem::encode(&pem::Pem::new("PRIVATE KEY", der.as_ref().to_vec()));
        let encoding = EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
        let public: PublicKeyX509Der = pair.public_key().as_der().unwrap();
        let public_pem = pem::encode(&pem::Pem::new("PUBLIC KEY", public.as_ref().to_vec()));
        Self::finish(kid, alg, encoding, public_pem.into_bytes())
    }

    /// A fresh EC P-256 key for ES256.
    pub fn ec(kid: &str) -> Self {
        let doc =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, doc.as_ref()).unwrap();
        let encoding = EncodingKey::from_ec_der(doc.as_ref());
        Self::finish(
            kid,
            Algorithm::ES256,
            encoding,
            pair.public_key().as_ref().to_vec(),
        )
    }

    fn finish(kid: &str, alg: Algorithm, encoding: EncodingKey, public_bytes: Vec<u8>) -> Self {
        let mut jwk =
            serde_json::to_value(Jwk::from_encoding_key(&encoding, alg).unwrap()).unwrap();
        jwk["kid"] = kid.into();
        jwk["use"] = "sig".into();
        Self {
            kid: kid.to_owned(),
            alg,
            encoding,
            jwk,
            public_bytes,
        }
    }

    /// The JWK without `alg`, as Azure AD publishes keys.
    pub fn without_alg(mut self) -> Self {
        self.jwk.as_object_mut().unwrap().remove("alg");
        self
    }

    /// A token for `claims`, signed with this key under its kid.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_as(claims, &self.kid)
    }

    /// A token for `claims` signed with this key under its kid, with `edit` applied to the header.
    pub fn sign_with(&self, claims: &Value, edit: impl FnOnce(&mut Header)) -> String {
        let mut header = Header::new(self.alg);
        header.kid = Some(self.kid.clone());
        edit(&mut header);
        encode(&header, claims, &self.encoding).unwrap()
    }

    /// A token for `claims` signed with this key, claiming key id `kid`.
    pub fn sign_as(&self, claims: &Value, kid: &str) -> String {
        let mut header = Header::new(self.alg);
        header.kid = Some(kid.to_owned());
        encode(&header, claims, &self.encoding).unwrap()
    }
}

/// Seconds since the epoch.
pub fn now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

/// Valid claims for `issuer` (sub `alice`, aud `AUDIENCE`, 10 minutes left).
pub fn claims(issuer: &str) -> Value {
    json!({"sub": "alice", "iss": issuer, "aud": AUDIENCE, "iat": now(), "nbf": now() - 5, "exp": now() + 600})
}

struct State {
    issuer: String,
    jwks: Mutex<Vec<Value>>,
    jwks_hits: AtomicUsize,
    discovery_hits: AtomicUsize,
}

/// A running discovery + JWKS server; stops when dropped.
pub struct Idp {
    pub issuer: String,
    state: Arc<State>,
    handle: ServerHandle,
}

impl Drop for Idp {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

impl Idp {
    /// Starts on 127.0.0.1 with an ephemeral port (inside the test's actix System).
    pub fn start(keys: &[&TestKey]) -> Self {
        Self::start_on("127.0.0.1:0".parse().unwrap(), keys)
    }

    /// Starts on `addr` (a port reserved earlier, for the "issuer down at start" case).
    pub fn start_on(addr: SocketAddr, keys: &[&TestKey]) -> Self {
        let listener = std::net::TcpListener::bind(addr).unwrap();
        let addr = listener.local_addr().unwrap();
        let issuer = format!("http://{addr}");
        let state = Arc::new(State {
            issuer: issuer.clone(),
            jwks: Mutex::new(keys.iter().map(|k| k.jwk.clone()).collect()),
            jwks_hits: AtomicUsize::new(0),
            discovery_hits: AtomicUsize::new(0),
        });
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route(
                    "/.well-known/openid-configuration",
                    web::get().to(discovery),
                )
                .route("/jwks", web::get().to(jwks))
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(0)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Self {
            issuer,
            state,
            handle,
        }
    }

    /// Publishes `key` next to the current keys (rotation).
    pub fn publish(&self, key: &TestKey) {
        self.state.jwks.lock().unwrap().push(key.jwk.clone());
    }

    /// How many times the JWKS was fetched.
    pub fn jwks_hits(&self) -> usize {
        self.state.jwks_hits.load(Ordering::SeqCst)
    }

    /// How many times the discovery document was fetched.
    pub fn discovery_hits(&self) -> usize {
        self.state.discovery_hits.load(Ordering::SeqCst)
    }
}

async fn discovery(state: web::Data<State>) -> HttpResponse {
    state.discovery_hits.fetch_add(1, Ordering::SeqCst);
    HttpResponse::Ok().json(json!({
        "issuer": state.issuer,
        "jwks_uri": format!("{}/jwks", state.issuer),
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
    }))
}

async fn jwks(state: web::Data<State>) -> HttpResponse {
    state.jwks_hits.fetch_add(1, Ordering::SeqCst);
    let keys = state.jwks.lock().unwrap().clone();
    // A symmetric key in the set must never become a verification key.
    let mut all = keys;
    all.push(json!({"kty": "oct", "kid": "hmac-bait", "alg": "HS256", "k": "c2VjcmV0"}));
    HttpResponse::Ok()
        .insert_header(("cache-control", "public, max-age=3600"))
        .json(json!({ "keys": all }))
}
