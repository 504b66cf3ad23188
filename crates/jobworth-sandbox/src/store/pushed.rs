//! What merchants pushed: job data, positions and pictures. Plain inserts and reads, by app.

use super::backend::Backend;
use super::desks::random_hex;
use super::{on_db, Store, StoreError};

/// Whom a `jobdata/add` call is about, as sent (`cert_no` masked: never stored in full).
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct JobDataSubject {
    /// `conn_key`
    pub conn_key: Option<String>,
    /// `user_id`
    pub user_id: Option<String>,
    /// `open_id`
    pub open_id: Option<String>,
    /// `cert_type`
    pub cert_type: Option<String>,
    /// `cert_no`, masked.
    pub cert_no_shown: Option<String>,
    /// `user_name`
    pub user_name: Option<String>,
}

/// One `jobdata/add` call as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobDataRow {
    /// The id the call answered.
    pub acceptance_id: String,
    /// Whom it is about.
    #[sqlx(flatten)]
    pub subject: JobDataSubject,
    /// `job_data_list` as sent, a JSON array.
    pub items: String,
    /// Epoch ms.
    pub created_at: i64,
}

/// What a `jobdata/add` call stores (its id is made here).
#[derive(Debug, Clone)]
pub struct NewJobData {
    /// The calling app.
    pub app_id: String,
    /// Whom it is about.
    pub subject: JobDataSubject,
    /// `job_data_list`, a JSON array.
    pub items: String,
}

/// A job posting as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PositionRow {
    /// The id `position/add` answered.
    pub position_id: String,
    /// The merchant's own id of the posting, when sent.
    pub ka_position_id: Option<String>,
    /// `jobworth_position_info` as last sent, a JSON object.
    pub info: String,
    /// Epoch ms.
    pub created_at: i64,
    /// Epoch ms of the last push.
    pub updated_at: i64,
}

/// An uploaded picture's metadata (its bytes stay in the database).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PictureRow {
    /// The id `picture/upload` answered.
    pub pic_id: String,
    /// `pic_type`, when sent.
    pub pic_type: Option<String>,
    /// `image/jpeg` or `image/png`, from the magic bytes.
    pub media_type: String,
    /// Decoded size in bytes.
    pub size: i64,
    /// SHA-256 of the decoded bytes, hex.
    pub sha256: String,
    /// Epoch ms.
    pub created_at: i64,
}

/// What a `picture/upload` call stores.
#[derive(Debug, Clone)]
pub struct NewPicture {
    /// The calling app.
    pub app_id: String,
    /// `pic_type`
    pub pic_type: Option<String>,
    /// `image/jpeg` or `image/png`.
    pub media_type: &'static str,
    /// The decoded picture.
    pub content: Vec<u8>,
}

/// Most rows a list returns.
const LIST_LIMIT: u32 = 500;

impl Store {
    /// Stores one `jobdata/add` call; returns its acceptance id.
    pub async fn insert_job_data(&self, new: NewJobData) -> Result<String, StoreError> {
        let id = random_hex(16);
        on_db!(self, db => db.insert_job_data(&id, &new).await)?;
        Ok(id)
    }

    /// An app's `jobdata/add` calls, oldest first.
    pub async fn job_data(&self, app_id: &str) -> Result<Vec<JobDataRow>, StoreError> {
        on_db!(self, db => db.job_data(app_id, LIST_LIMIT).await)
    }

    /// Stores a posting: a new one, or the app's posting of the same `ka_position_id` updated.
    /// Returns its position id.
    pub async fn upsert_position(
        &self,
        app_id: &str,
        ka_position_id: Option<&str>,
        info: String,
    ) -> Result<String, StoreError> {
        let id = random_hex(16);
        on_db!(self, db => db.upsert_position(&id, app_id, ka_position_id, &info).await)
    }

    /// Replaces the info of the app's posting `position_id`; `false` when there is none.
    pub async fn update_position(&self, app_id: &str, position_id: &str, info: String) -> Result<bool, StoreError> {
        on_db!(self, db => db.update_position(app_id, position_id, &info).await)
    }

    /// An app's postings, oldest first.
    pub async fn positions(&self, app_id: &str) -> Result<Vec<PositionRow>, StoreError> {
        on_db!(self, db => db.positions(app_id, LIST_LIMIT).await)
    }

    /// Stores a checked picture; returns its pic id.
    pub async fn insert_picture(&self, new: NewPicture) -> Result<String, StoreError> {
        let id = random_hex(16);
        let sha256 = alipay_v3::hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &new.content).as_ref());
        on_db!(self, db => db.insert_picture(&id, &new, &sha256).await)?;
        Ok(id)
    }

    /// An app's pictures' metadata, oldest first.
    pub async fn pictures(&self, app_id: &str) -> Result<Vec<PictureRow>, StoreError> {
        on_db!(self, db => db.pictures(app_id, LIST_LIMIT).await)
    }

    /// Whether the app uploaded the picture `pic_id`.
    pub async fn picture_exists(&self, app_id: &str, pic_id: &str) -> Result<bool, StoreError> {
        on_db!(self, db => db.picture_exists(app_id, pic_id).await)
    }
}

#[cfg(test)]
mod tests {
    use jobworth_testkit::stores::StoreKind;

    use super::{JobDataSubject, NewJobData, NewPicture};
    use crate::store::tests::fresh;

    async fn what_an_app_pushed_is_listed_back_in_order(kind: StoreKind) {
        let (_place, s) = fresh(kind).await;
        let subject =
            JobDataSubject { conn_key: Some("c-1".into()), user_id: Some("2088".into()), ..Default::default() };
        let first = s
            .insert_job_data(NewJobData { app_id: "app".into(), subject: subject.clone(), items: "[1]".into() })
            .await
            .unwrap();
        let second =
            s.insert_job_data(NewJobData { app_id: "app".into(), subject, items: "[2]".into() }).await.unwrap();
        let rows = s.job_data("app").await.unwrap();
        assert_eq!(rows.iter().map(|r| r.acceptance_id.as_str()).collect::<Vec<_>>(), [&first, &second]);
        assert_eq!(rows[0].items, "[1]");
        assert_eq!(rows[0].subject.conn_key.as_deref(), Some("c-1"));
        assert!(s.job_data("other").await.unwrap().is_empty());

        // The same ka_position_id names one posting; pushing it again updates it.
        let p = s.upsert_position("app", Some("ka-1"), "{\"a\":1}".into()).await.unwrap();
        assert_eq!(s.upsert_position("app", Some("ka-1"), "{\"a\":2}".into()).await.unwrap(), p);
        let q = s.upsert_position("app", None, "{\"b\":1}".into()).await.unwrap();
        assert_ne!(p, q);
        assert!(s.update_position("app", &q, "{\"b\":2}".into()).await.unwrap());
        assert!(!s.update_position("other", &q, "{}".into()).await.unwrap());
        let positions = s.positions("app").await.unwrap();
        let infos: Vec<_> = positions.iter().map(|r| (r.position_id.as_str(), r.info.as_str())).collect();
        assert_eq!(infos, [(p.as_str(), "{\"a\":2}"), (q.as_str(), "{\"b\":2}")]);

        let content = vec![0x89, b'P', b'N', b'G', 1, 2, 3];
        let pic = s
            .insert_picture(NewPicture {
                app_id: "app".into(),
                pic_type: Some("JOB_DATA_UPLOAD".into()),
                media_type: "image/png",
                content,
            })
            .await
            .unwrap();
        let pictures = s.pictures("app").await.unwrap();
        assert_eq!(pictures.len(), 1);
        assert_eq!(
            (pictures[0].pic_id.as_str(), pictures[0].size, pictures[0].media_type.as_str()),
            (pic.as_str(), 7, "image/png")
        );
        assert!(s.picture_exists("app", &pic).await.unwrap());
        assert!(!s.picture_exists("other", &pic).await.unwrap());
        s.close().await;
    }

    jobworth_testkit::store_tests! {
        #[tokio::test] what_an_app_pushed_is_listed_back_in_order,
    }
}
