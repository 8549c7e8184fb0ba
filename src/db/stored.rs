//! Values the database keeps as TEXT (typed ids, status and other vocabularies) and how they
//! cross into and out of both backends. Decoding is strict: a stored value the code does not
//! know is a deserialization error (logged, answered 500), never a default.

use std::borrow::Cow;

/// A domain value stored as one TEXT column.
pub trait StoredText: Sized {
    /// What the value is, for the error when a stored one is not understood.
    const WHAT: &'static str;
    fn from_stored(raw: &str) -> Option<Self>;
    fn to_stored(&self) -> Cow<'static, str>;
}

/// The strict decoding shared by every stored type.
pub fn decode<T: StoredText>(raw: String) -> diesel::deserialize::Result<T> {
    T::from_stored(&raw)
        .ok_or_else(|| format!("unknown {} {raw:?} stored in the database", T::WHAT).into())
}

/// Implements diesel's TEXT conversions for a [`StoredText`] type on PostgreSQL, SQLite and
/// the multi-backend connection that carries both.
#[macro_export]
macro_rules! stored_as_text {
    ($ty:ty) => {
        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $ty
        where
            DB: diesel::backend::Backend,
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                let raw = <String as diesel::deserialize::FromSql<
                                                                            diesel::sql_types::Text,
                                                                            DB,
                                                                        >>::from_sql(bytes)?;
                $crate::db::stored::decode(raw)
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $ty {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                use std::io::Write;
                let text = <$ty as $crate::db::stored::StoredText>::to_stored(self);
                out.write_all(text.as_bytes())?;
                Ok(diesel::serialize::IsNull::No)
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::sqlite::Sqlite> for $ty {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::sqlite::Sqlite>,
            ) -> diesel::serialize::Result {
                match <$ty as $crate::db::stored::StoredText>::to_stored(self) {
                    std::borrow::Cow::Borrowed(s) => out.set_value(s),
                    std::borrow::Cow::Owned(s) => out.set_value(s),
                }
                Ok(diesel::serialize::IsNull::No)
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, $crate::db::MultiBackend> for $ty {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, $crate::db::MultiBackend>,
            ) -> diesel::serialize::Result {
                out.set_value((diesel::sql_types::Text, self));
                Ok(diesel::serialize::IsNull::No)
            }
        }
    };
}

/// A closed set of words stored in a TEXT column: the enum, its text form, strict parsing,
/// and the database conversions. Serde and schema attributes are passed through.
#[macro_export]
macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident as $what:literal {
            $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, diesel::expression::AsExpression, diesel::deserialize::FromSqlRow)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        $vis enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::db::stored::StoredText for $name {
            const WHAT: &'static str = $what;
            fn from_stored(raw: &str) -> Option<Self> {
                Self::parse(raw)
            }
            fn to_stored(&self) -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(self.as_str())
            }
        }

        $crate::stored_as_text!($name);
    };
}
