package dev.jobworth.interop;

/** The family's endpoints with the Java v3 SDK in certificate mode (alipay-sn checked on every answer). */
class FamilyCertModeTest extends FamilyEndpoints {
    FamilyCertModeTest() {
        super(TestApp::certClient);
    }
}
