package dev.jobworth.interop;

import static dev.jobworth.interop.Query.assertApiError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.alipay.v3.ApiException;
import com.alipay.v3.api.ZhimaCreditPayafteruseCreditagreementApi;
import com.alipay.v3.api.ZhimaCustomerJobworthCloudresumeApi;
import com.alipay.v3.api.ZhimaCustomerJobworthInfoApi;
import com.alipay.v3.api.ZhimaCustomerJobworthJobdataApi;
import com.alipay.v3.api.ZhimaCustomerJobworthPictureApi;
import com.alipay.v3.api.ZhimaCustomerJobworthPositionApi;
import com.alipay.v3.model.JobWorthJobdata;
import com.alipay.v3.model.JobWorthPositionInfo;
import com.alipay.v3.model.ZhimaCreditPayafteruseCreditagreementQueryResponseModel;
import com.alipay.v3.model.ZhimaCustomerJobworthCloudresumeQueryResponseModel;
import com.alipay.v3.model.ZhimaCustomerJobworthInfoQueryResponseModel;
import com.alipay.v3.model.ZhimaCustomerJobworthJobdataAddModel;
import com.alipay.v3.model.ZhimaCustomerJobworthPictureUploadModel;
import com.alipay.v3.model.ZhimaCustomerJobworthPositionAddModel;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.jobworth.interop.TestApp.Flow;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The family's six endpoints through the official Java v3 SDK's typed API classes (their models,
 * their Gson serialisation and validation), with the client a subclass picks: each answers, what
 * was pushed is listed by the control plane, and one documented error per endpoint arrives as an
 * ApiException (or, for a 200 business outcome, as getSubCode()).
 */
abstract class FamilyEndpoints extends SandboxWithApp {
    FamilyEndpoints(ClientOf clientOf) {
        super(clientOf);
    }

    /** The 19 positional parameters of info/query in the SDK's order; those not given are null. */
    ZhimaCustomerJobworthInfoQueryResponseModel workCard(String userId, String connKey, String jobId) throws ApiException {
        return new ZhimaCustomerJobworthInfoApi(client).query(
                null, connKey, null, userId, null, null, null, null, null, null, null, null,
                true, true, true, true, jobId, null, null);
    }

    static String png(int size) {
        byte[] b = new byte[size];
        byte[] magic = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
        System.arraycopy(magic, 0, b, 0, magic.length);
        return Base64.getEncoder().encodeToString(b);
    }

    static void expectApiError(Executable call, int status, String code) {
        ApiException e = assertThrows(ApiException.class, call, "expected " + code);
        assertApiError(e, status, code);
    }

    JsonObject listed(String what, String field, String value) {
        for (JsonElement row : sandbox.cp.get("/sandbox/apps/" + app.appId + "/" + what).json().getAsJsonArray()) {
            JsonObject o = row.getAsJsonObject();
            if (o.has(field) && o.get(field).getAsString().equals(value)) return o;
        }
        throw new AssertionError(what + " lists no " + field + " " + value);
    }

    @Test
    void workCardLinksThenJobIdNotMatchThenUserNotOpenZhima() throws Exception {
        Flow flow = app.desk("teacher");
        String userId = sandbox.userId("teacher");
        var card = workCard(userId, flow.connKey(), null);
        for (String link : new String[] {card.getUrl(), card.getHtmlUrl(), card.getPictureUrl(), card.getUpdateUrl()}) {
            assertNotNull(link, card.toString());
            assertTrue(link.startsWith(sandbox.base()), link);
        }
        assertNull(card.getSubCode());
        expectApiError(() -> workCard(userId, null, "no-such-job"), 400, "JOB_ID_NOT_MATCH");
        app.desk("no-zhima");
        var refused = workCard(sandbox.userId("no-zhima"), null, null);
        assertEquals("USER_NOT_OPEN_ZHIMA", refused.getSubCode());
        assertNotNull(refused.getSubMsg());
        assertNull(refused.getUrl());
    }

    @Test
    void cloudResumeOnceThenInvalidParameterAndQueryDataIsNull() throws Exception {
        Flow flow = app.desk("teacher");
        var api = new ZhimaCustomerJobworthCloudresumeApi(client);
        ZhimaCustomerJobworthCloudresumeQueryResponseModel resume = api.query(flow.connKey(), flow.onceToken());
        assertFalse(resume.getUserName().isEmpty());
        assertFalse(resume.getEducationExperiences().isEmpty(), resume.toString());
        assertNotNull(resume.getEducationExperiences().get(0).getSchoolName());
        assertFalse(resume.getWorkExperiences().isEmpty());
        assertNotNull(resume.getWorkExperiences().get(0).getCompanyName());
        assertNotNull(resume.getSkills());
        expectApiError(() -> api.query(flow.connKey(), flow.onceToken()), 400, "INVALID_PARAMETER");
        Flow none = app.desk("no-jobworth");
        expectApiError(() -> api.query(none.connKey(), none.onceToken()), 400, "QUERY_DATA_IS_NULL");
    }

    @Test
    void pictureUploadThenPictureTypeError() throws Exception {
        var api = new ZhimaCustomerJobworthPictureApi(client);
        var model = new ZhimaCustomerJobworthPictureUploadModel();
        model.setContent(png(64));
        model.setPicType("JOB_DATA_UPLOAD");
        String picId = api.upload(model).getPicId();
        assertNotNull(picId);
        assertEquals(64, listed("pictures", "pic_id", picId).get("size").getAsInt());
        model.setContent(Base64.getEncoder().encodeToString("GIF89a\u0001\u0000\u0001\u0000".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1)));
        expectApiError(() -> api.upload(model), 400, "PICTURE_TYPE_ERROR");
        model.setContent(png(1024 * 1024 + 1));
        expectApiError(() -> api.upload(model), 400, "PICTURE_UPLOAD_LIMIT_ERROR");
    }

    @Test
    void jobDataAddedAndListedThenInvalidParameter() throws Exception {
        app.desk("teacher");
        String userId = sandbox.userId("teacher");
        JobWorthJobdata work = new JobWorthJobdata();
        work.setType("WORK");
        work.setCompanyName("北京市朝阳区实验中学");
        work.setJobName("高中数学教师");
        work.setDeliveryTime(1717756911);
        JobWorthJobdata skill = new JobWorthJobdata();
        skill.setType("SKILL");
        skill.setSkillName("板书");
        var model = new ZhimaCustomerJobworthJobdataAddModel();
        model.setUserId(userId);
        model.setJobDataList(List.of(work, skill));
        var api = new ZhimaCustomerJobworthJobdataApi(client);
        var added = api.add(model);
        assertEquals(32, added.getAcceptanceId().length());
        JsonObject row = listed("job-data", "acceptance_id", added.getAcceptanceId());
        assertEquals(userId, row.get("user_id").getAsString());
        var list = row.getAsJsonArray("job_data_list");
        assertEquals("高中数学教师", list.get(0).getAsJsonObject().get("job_name").getAsString());
        assertEquals(1717756911, list.get(0).getAsJsonObject().get("delivery_time").getAsInt());
        assertEquals("SKILL", list.get(1).getAsJsonObject().get("type").getAsString());
        model.setJobDataList(List.of());
        expectApiError(() -> api.add(model), 400, "INVALID_PARAMETER");
    }

    @Test
    void positionAddedAndUpdatedThenInvalidParameter() throws Exception {
        var info = new JobWorthPositionInfo();
        info.setKaPositionId("KA-" + TestApp.tag());
        info.setPositionTitle("高中数学教师");
        info.setCompanyName("北京市朝阳区实验中学");
        info.setCount(2);
        var model = new ZhimaCustomerJobworthPositionAddModel();
        model.setJobworthPositionInfo(info);
        var api = new ZhimaCustomerJobworthPositionApi(client);
        String id = api.add(model).getPositionId();
        assertNotNull(id);
        info.setCount(3);
        assertEquals(id, api.add(model).getPositionId(), "the same ka_position_id updates the posting");
        JsonObject stored = listed("positions", "position_id", id).getAsJsonObject("jobworth_position_info");
        assertEquals("高中数学教师", stored.get("position_title").getAsString());
        assertEquals(3, stored.get("count").getAsInt());
        var untitled = new JobWorthPositionInfo();
        untitled.setCompanyName("实验中学");
        model.setJobworthPositionInfo(untitled);
        expectApiError(() -> api.add(model), 400, "INVALID_PARAMETER");
    }

    @Test
    void creditAgreementValidByNumberAndIdThenNotExist() throws Exception {
        Flow flow = app.desk("teacher");
        var api = new ZhimaCreditPayafteruseCreditagreementApi(client);
        ZhimaCreditPayafteruseCreditagreementQueryResponseModel a = api.query(flow.connKey(), null);
        assertEquals("VALID", a.getAgreementStatus());
        assertEquals(flow.connKey(), a.getOutAgreementNo());
        assertEquals(sandbox.userId("teacher"), a.getAlipayUserId());
        assertTrue(a.getBizTime().matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d"), a.getBizTime());
        var byId = api.query(null, a.getCreditAgreementId());
        assertEquals(a.toString(), byId.toString());
        expectApiError(() -> api.query("never-signed", null), 400, "CREDIT_AGREEMENT_NOT_EXIST");
    }
}
