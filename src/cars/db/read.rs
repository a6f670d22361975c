//! One listing, or one seller's listings.

use super::*;

/// The listing's current photo name and seller, for ownership checks.
pub async fn find_owner(db: &Db, id: i64) -> Result<(i64, Option<String>), AppError> {
    on_db!(
        db,
        read | pool
            | sqlx::query_as::<_, (i64, Option<String>)>(
                "SELECT seller_id, photo FROM cars WHERE id = $1"
            )
            .bind(id)
            .fetch_optional(pool)
            .await
    )?
    .ok_or_else(|| AppError::NotFound("This listing does not exist or has been removed.".into()))
}

pub async fn find_car_by_id(db: &Db, id: i64) -> Result<Option<Car>, AppError> {
    let sql = format!(
        "SELECT {CAR_COLUMNS} FROM cars c JOIN users u ON u.id = c.seller_id WHERE c.id = $1"
    );
    let row = on_db!(
        db,
        read | pool
            | sqlx::query_as::<_, CarRow>(&sql)
                .bind(id)
                .fetch_optional(pool)
                .await
    )?;
    Ok(row.map(Car::from))
}

/// Every listing of one seller, whatever its status, newest first.
pub async fn list_cars_by_seller(db: &Db, seller_id: i64) -> Result<Vec<CarSummary>, AppError> {
    let sql = format!("SELECT {SUMMARY_COLUMNS} FROM cars c WHERE c.seller_id = $1 ORDER BY c.created_at DESC, c.id DESC");
    let rows = on_db!(
        db,
        read | pool
            | sqlx::query_as::<_, SummaryRow>(&sql)
                .bind(seller_id)
                .fetch_all(pool)
                .await
    )?;
    Ok(rows.into_iter().map(CarSummary::from).collect())
}

/// Every listing of one seller in full (the API's my_listings), newest first.
pub async fn list_full_cars_by_seller(db: &Db, seller_id: i64) -> Result<Vec<Car>, AppError> {
    let sql = format!(
        "SELECT {CAR_COLUMNS} FROM cars c JOIN users u ON u.id = c.seller_id \
         WHERE c.seller_id = $1 ORDER BY c.created_at DESC, c.id DESC"
    );
    let rows = on_db!(
        db,
        read | pool
            | sqlx::query_as::<_, CarRow>(&sql)
                .bind(seller_id)
                .fetch_all(pool)
                .await
    )?;
    Ok(rows.into_iter().map(Car::from).collect())
}
