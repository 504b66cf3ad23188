package dev.jobworth.interop;

/** The family's endpoints with the Java v3 SDK in key mode. */
class FamilyKeyModeTest extends FamilyEndpoints {
    FamilyKeyModeTest() {
        super(TestApp::keyClient);
    }
}
