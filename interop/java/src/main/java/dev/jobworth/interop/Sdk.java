package dev.jobworth.interop;

import com.alipay.v3.ApiClient;
import com.alipay.v3.ApiException;
import com.alipay.v3.util.model.AlipayConfig;

/** ApiClient set up the way the seed example does, against a sandbox. */
public final class Sdk {
    private Sdk() {}

    /** Key mode: setPrivateKey + setAlipayPublicKey (bare base64), optional AES key. */
    public static ApiClient keyMode(String base, String appId, AppKeys keys, String alipayPublicKeyPem, String encryptKey) throws ApiException {
        ApiClient client = new ApiClient();
        client.setBasePath(base);
        AlipayConfig config = new AlipayConfig();
        config.setAppId(appId);
        config.setPrivateKey(keys.privatePkcs8Base64());
        config.setAlipayPublicKey(AppKeys.pemBody(alipayPublicKeyPem));
        if (encryptKey != null) config.setEncryptKey(encryptKey);
        client.setAlipayConfig(config);
        return client;
    }

    /** Certificate mode with the PEMs POST /sandbox/apps returned. */
    public static ApiClient certMode(String base, String appId, AppKeys keys, String appCert, String alipayCert, String rootCert, String encryptKey) throws ApiException {
        ApiClient client = new ApiClient();
        client.setBasePath(base);
        AlipayConfig config = new AlipayConfig();
        config.setAppId(appId);
        config.setPrivateKey(keys.privatePkcs8Base64());
        config.setAppCertContent(appCert);
        config.setAlipayPublicCertContent(alipayCert);
        config.setRootCertContent(rootCert);
        if (encryptKey != null) config.setEncryptKey(encryptKey);
        client.setAlipayConfig(config);
        return client;
    }
}
