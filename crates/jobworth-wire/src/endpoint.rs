//! Where requests go: the production gateway, the path of the v3 query, the v2 method of step 1.

/// The production v3 gateway (an origin: no path).
pub const DEFAULT_ENDPOINT: &str = "https://openapi.alipay.com";

/// Path of the Jobworth authentication query (no trailing `/query`), served as `GET`.
pub const AUTHENTICATION_PATH: &str = "/v3/zhima/customer/jobworth/authentication";

/// The `method` of the step-1 order string, a v2 method the Alipay app (not the gateway) receives.
pub const CREDIT_AGREEMENT_SIGN: &str = "zhima.credit.payafteruse.creditagreement.sign";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_values() {
        assert_eq!(DEFAULT_ENDPOINT, "https://openapi.alipay.com");
        assert_eq!(AUTHENTICATION_PATH, "/v3/zhima/customer/jobworth/authentication");
        assert_eq!(CREDIT_AGREEMENT_SIGN, "zhima.credit.payafteruse.creditagreement.sign");
    }
}
