//! Where requests go: the production gateway, the path of the v3 query, the v2 method of step 1;
//! and who issued the certificates a gateway signs with.

/// The production v3 gateway (an origin: no path).
pub const DEFAULT_ENDPOINT: &str = "https://openapi.alipay.com";

/// Path of the Jobworth authentication query (no trailing `/query`), served as `GET`.
pub const AUTHENTICATION_PATH: &str = "/v3/zhima/customer/jobworth/authentication";

/// The `method` of the step-1 order string, a v2 method the Alipay app (not the gateway) receives.
pub const CREDIT_AGREEMENT_SIGN: &str = "zhima.credit.payafteruse.creditagreement.sign";

/// The organization (`O=`) of Alipay's certificate authorities: Alipay's public-key certificates
/// and its root bundle (`alipayRootCert.crt`) are issued by Ant Financial.
pub const ALIPAY_CA_ORGANIZATION: &str = "Ant Financial";

/// The organization (`O=`) of a jobworth sandbox's certificate authority, in the issuer of every
/// certificate it hands out: how a sandbox's certificate is told from Alipay's.
pub const SANDBOX_CA_ORGANIZATION: &str = "Jobworth Sandbox";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_values() {
        assert_eq!(DEFAULT_ENDPOINT, "https://openapi.alipay.com");
        assert_eq!(AUTHENTICATION_PATH, "/v3/zhima/customer/jobworth/authentication");
        assert_eq!(CREDIT_AGREEMENT_SIGN, "zhima.credit.payafteruse.creditagreement.sign");
        assert_eq!(ALIPAY_CA_ORGANIZATION, "Ant Financial");
        assert_eq!(SANDBOX_CA_ORGANIZATION, "Jobworth Sandbox");
    }
}
