//! The OpenAPI 3 document, generated from the handlers' annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::api;

#[derive(OpenApi)]
#[openapi(
    info(title = "cleanweb", description = "Moderation API for sexual and obscene content."),
    paths(api::moderate, api::moderate_batch, crate::files::moderate_file, api::list_decisions, api::get_decision, api::reload, api::blocklist_export, api::list_sites, api::change_site, api::site_history, api::hash_image, api::list_banks, api::create_bank, api::bank_entries, api::add_bank_entries, api::delete_bank, api::remove_bank_entry, api::add_bank_image, api::match_image, api::healthz, api::metrics, crate::reports::file_report, crate::reports::report_status, crate::evidence::export_bundle),
    components(schemas(
        cleanweb_core::Item, cleanweb_core::Decision, cleanweb_core::Label, cleanweb_core::Evidence, cleanweb_core::FileDecision, cleanweb_core::MemberOutcome,
        cleanweb_core::Category, cleanweb_core::Verdict, cleanweb_core::Source,
        api::BatchRequest, api::BatchResponse, api::BatchResult, api::ItemFailure,
        api::StoredDecision, api::DecisionList, api::Health, api::Reloaded, api::SiteChange, api::SiteList, cleanweb_core::SiteEvent, cleanweb_core::SiteEventKind, cleanweb_core::SiteStatus, api::ImageHash, cleanweb_core::Bank, cleanweb_core::BankEntry, cleanweb_core::Signal, cleanweb_core::Action, api::BankEntries, crate::problem::Problem, crate::reports::ReportRequest, crate::reports::ReceiptResponse, crate::reports::ReportStatus, crate::reports::TargetStatus,
    )),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}
