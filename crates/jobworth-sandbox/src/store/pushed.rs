//! What merchants pushed: job data, positions and pictures. Plain inserts and reads, by app.

use super::desks::random_hex;
use super::{now_ms, Store, StoreError};

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
        let acceptance_id = id.clone();
        self.writer
            .run(move |conn| {
                Box::pin(async move {
                    let who = new.subject;
                    sqlx::query(
                        "INSERT INTO job_data (acceptance_id, app_id, conn_key, user_id, open_id, cert_type, \
                         cert_no_shown, user_name, items, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    )
                    .bind(id)
                    .bind(new.app_id)
                    .bind(who.conn_key)
                    .bind(who.user_id)
                    .bind(who.open_id)
                    .bind(who.cert_type)
                    .bind(who.cert_no_shown)
                    .bind(who.user_name)
                    .bind(new.items)
                    .bind(now_ms())
                    .execute(&mut *conn)
                    .await
                })
            })
            .await?;
        Ok(acceptance_id)
    }

    /// An app's `jobdata/add` calls, oldest first.
    pub async fn job_data(&self, app_id: &str) -> Result<Vec<JobDataRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT acceptance_id, conn_key, user_id, open_id, cert_type, cert_no_shown, user_name, items, created_at \
             FROM job_data WHERE app_id = ? ORDER BY created_at, rowid LIMIT ?",
        )
        .bind(app_id)
        .bind(LIST_LIMIT)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Stores a posting: a new one, or the app's posting of the same `ka_position_id` updated.
    /// Returns its position id.
    pub async fn upsert_position(
        &self,
        app_id: &str,
        ka_position_id: Option<&str>,
        info: String,
    ) -> Result<String, StoreError> {
        let (app_id, ka, id) = (app_id.to_owned(), ka_position_id.map(str::to_owned), random_hex(16));
        Ok(self
            .writer
            .run(move |conn| {
                Box::pin(async move {
                    let now = now_ms();
                    sqlx::query_scalar(
                        "INSERT INTO positions (position_id, app_id, ka_position_id, info, created_at, updated_at) \
                         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (app_id, ka_position_id) WHERE ka_position_id IS NOT NULL \
                         DO UPDATE SET info = excluded.info, updated_at = excluded.updated_at RETURNING position_id",
                    )
                    .bind(id)
                    .bind(app_id)
                    .bind(ka)
                    .bind(info)
                    .bind(now)
                    .bind(now)
                    .fetch_one(&mut *conn)
                    .await
                })
            })
            .await?)
    }

    /// Replaces the info of the app's posting `position_id`; `false` when there is none.
    pub async fn update_position(&self, app_id: &str, position_id: &str, info: String) -> Result<bool, StoreError> {
        let (app_id, position_id) = (app_id.to_owned(), position_id.to_owned());
        let done = self
            .writer
            .run(move |conn| {
                Box::pin(async move {
                    sqlx::query("UPDATE positions SET info = ?, updated_at = ? WHERE app_id = ? AND position_id = ?")
                        .bind(info)
                        .bind(now_ms())
                        .bind(app_id)
                        .bind(position_id)
                        .execute(&mut *conn)
                        .await
                })
            })
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// An app's postings, oldest first.
    pub async fn positions(&self, app_id: &str) -> Result<Vec<PositionRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT position_id, ka_position_id, info, created_at, updated_at FROM positions WHERE app_id = ? \
             ORDER BY created_at, rowid LIMIT ?",
        )
        .bind(app_id)
        .bind(LIST_LIMIT)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Stores a checked picture; returns its pic id.
    pub async fn insert_picture(&self, new: NewPicture) -> Result<String, StoreError> {
        let id = random_hex(16);
        let pic_id = id.clone();
        let sha256 = alipay_v3::hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &new.content).as_ref());
        self.writer
            .run(move |conn| {
                Box::pin(async move {
                    let size = i64::try_from(new.content.len()).unwrap_or(i64::MAX);
                    sqlx::query(
                        "INSERT INTO pictures (pic_id, app_id, pic_type, media_type, size, sha256, content, created_at) \
                         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    )
                    .bind(id)
                    .bind(new.app_id)
                    .bind(new.pic_type)
                    .bind(new.media_type)
                    .bind(size)
                    .bind(sha256)
                    .bind(new.content)
                    .bind(now_ms())
                    .execute(&mut *conn)
                    .await
                })
            })
            .await?;
        Ok(pic_id)
    }

    /// An app's pictures' metadata, oldest first.
    pub async fn pictures(&self, app_id: &str) -> Result<Vec<PictureRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT pic_id, pic_type, media_type, size, sha256, created_at FROM pictures WHERE app_id = ? \
             ORDER BY created_at, rowid LIMIT ?",
        )
        .bind(app_id)
        .bind(LIST_LIMIT)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Whether the app uploaded the picture `pic_id`.
    pub async fn picture_exists(&self, app_id: &str, pic_id: &str) -> Result<bool, StoreError> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM pictures WHERE app_id = ? AND pic_id = ?")
            .bind(app_id)
            .bind(pic_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }
}
