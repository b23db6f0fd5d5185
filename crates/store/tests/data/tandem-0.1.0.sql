-- The SQLite database of Tandem 0.1.0 (commit 7f957b2bac9b, migrations up to 0034) after
-- `tandem demo`, as `sqlite3 .dump` writes it: what an upgrade starts from (see
-- backend/sqlite.rs, a_database_of_the_previous_release_upgrades_with_its_history).
PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE _sqlx_migrations (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    success BOOLEAN NOT NULL,
    checksum BLOB NOT NULL,
    execution_time BIGINT NOT NULL
);
INSERT INTO "_sqlx_migrations" VALUES(1,'init','2026-12-07 10:51:49',1,X'FEED891D111A84376895361ED22D91242EB236C73C0665EF2C7E13539F7579F963B78E05BB41F3C80D6476287C648730',1833624);
INSERT INTO "_sqlx_migrations" VALUES(2,'triggers and secrets','2026-12-07 10:51:49',1,X'78B36D73E67C671615559CAEF3FBD39A5672EDB18AFD880CE7610ED32698DBD8CE7C7216BB683901C0C9900F8B97335A',655320);
INSERT INTO "_sqlx_migrations" VALUES(3,'deliveries','2026-12-07 10:51:49',1,X'87F3C39DC8E1A2B9523441F77748881A814318F8C4367995D9EEA62B7DEDF15BAABEDFE0D7AF3BEAFB4EB3CDEB0CFBAD',318331);
INSERT INTO "_sqlx_migrations" VALUES(4,'reruns','2026-12-07 10:51:49',1,X'41CA20E5BAB767485EFC72C4BD744C92332F05C0DBD32F8602CEE3E4016E49B411ABBFB6EA6C006E4F89E22F48E3E552',596352);
INSERT INTO "_sqlx_migrations" VALUES(5,'artifact retention and provenance','2026-12-07 10:51:49',1,X'3AAA85F39BD035CFC7316490E32437CF634B6AB33F794A9D3217F28C55C639DC5A63CB57FBBAEEE13DA2A02536B17F21',747627);
INSERT INTO "_sqlx_migrations" VALUES(6,'caches','2026-12-07 10:51:49',1,X'320E1B016DD7CFB14EB4FB30CAD14638A809012A53AFD5B1640B5B5549C53A796DE5E64F3117CA730FF8EA400F371775',283810);
INSERT INTO "_sqlx_migrations" VALUES(7,'log chunks','2026-12-07 10:51:49',1,X'80CC30194BB4D5AF76012E1B06C0286D55720548610DA55588B464BC53CD81A990679200CE1CBBCD9099987B0551C599',274266);
INSERT INTO "_sqlx_migrations" VALUES(8,'rollout control','2026-12-07 10:51:49',1,X'8F4C88E4A4BCCBD568546B1F2EA5F68FC2836F0D7110187A19927B761B9DCFB26A945CBA0169D8E66DC26CA24D320A70',983336);
INSERT INTO "_sqlx_migrations" VALUES(9,'flags','2026-12-07 10:51:49',1,X'8F3D15020125E7D5D83260DACFE4BC4299B8BB15C4CE6B37BB82FEE0189DB1F2C90159F9B1AB68F928424066A94359CE',329308);
INSERT INTO "_sqlx_migrations" VALUES(10,'release config schema','2026-12-07 10:51:49',1,X'7B425A18BFAE0A2ECBDD2E0EE088A0C50E488F2846B987F144ED7D4779F6F85BE0CB3E085FE0C8D80BA701EE1BCBF1EB',614370);
INSERT INTO "_sqlx_migrations" VALUES(11,'config versions','2026-12-07 10:51:49',1,X'05753281F214BF1EA907E9FE7DA9F3E218A61AB9502628F7A883273DF52DFC0EF53D6F90C4DB6B24A71E957724FB0760',2201338);
INSERT INTO "_sqlx_migrations" VALUES(12,'deployment commits','2026-12-07 10:51:49',1,X'A192C0A67285E34E01880E69295E90BD4099B6DD8DB04F4E10C5B04167D7958530C918116344A346C1DF23C20767C34E',334796);
INSERT INTO "_sqlx_migrations" VALUES(13,'incident sources','2026-12-07 10:51:49',1,X'426C32FEB50252BD2E92DA72280AAE6BEF36A4B84ABCFC971C03380CAF50A0CCC47B820AB19CFEF7082AD1DA28304A3F',2299814);
INSERT INTO "_sqlx_migrations" VALUES(14,'monitor','2026-12-07 10:51:49',1,X'72B5A24833EE8DB7DE5C2730BA3C955E5B73C6056FA57A8A0A419B653A00984FB8D4CB707572C33B866AFB3CDBE9E112',649561);
INSERT INTO "_sqlx_migrations" VALUES(15,'market launches','2026-12-07 10:51:49',1,X'FE6F3FE5D24CEBE2F9546E5428B379AD8072E6B05E11F48F3F34C47D4FE8023C8725AF8515BB79784E7269057F91ADFC',436696);
INSERT INTO "_sqlx_migrations" VALUES(16,'deployments by state','2026-12-07 10:51:49',1,X'74878FF43E50637C1D559B1EC83D079F8B99A14A40BD7324A2E8CAF278BFD5395349FC13FD40A65942DB2B67AC9A6031',298001);
INSERT INTO "_sqlx_migrations" VALUES(17,'events by subject','2026-12-07 10:51:49',1,X'5D8BADC1919F4299AC83604A2ABEB899D427CDC97E18C5BB0BA3A17C561815662FC2D3CD1360D4DCE6FB996B9777077A',248578);
INSERT INTO "_sqlx_migrations" VALUES(18,'change revisions','2026-12-07 10:51:49',1,X'EBAF826960BE3619AB1F1620046A84E25417C530C8312FBF39DDA4AC3AF480F97B610055A796BEDB9CD3F7FB0A00A40F',408905);
INSERT INTO "_sqlx_migrations" VALUES(19,'deliveries by digest','2026-12-07 10:51:49',1,X'7F25E22CFF3733E2F283E0BC31952E20545A2B3D6323AC28022649FC07A98E294A39240B19C9E92A36E1832608CD7980',2131706);
INSERT INTO "_sqlx_migrations" VALUES(20,'market processes','2026-12-07 10:51:49',1,X'33F215AA9C8AD36AE78941EE75FA20B2E06B719162CEA28641F443BA4711D3E83151013079832306320AC9E3CA4DC314',388185);
INSERT INTO "_sqlx_migrations" VALUES(21,'sessions and token expiry','2026-12-07 10:51:49',1,X'78417C1B74FD65386FF650221543F028D32C06F24E8F55AC3902A1BE170B3DABB224D4B26F4170147A34F9CA35747061',1627869);
INSERT INTO "_sqlx_migrations" VALUES(22,'audit chain','2026-12-07 10:51:49',1,X'103B91B5CED76A44E86C6A2216F1FB3196B657C666AE9FF7103BE2C52A0FF23C83ACF0378122DDE35D1BA466ED613B96',3899151);
INSERT INTO "_sqlx_migrations" VALUES(25,'secret values','2026-12-07 10:51:49',1,X'8DFAFA893A80514EE30FAE40E7695AE34A3432AE52C39EA123C81A55A59ED77AAB5233F3B5FACFD7EB3BC5FF29AA6393',387974);
INSERT INTO "_sqlx_migrations" VALUES(26,'id counters','2026-12-07 10:51:49',1,X'AF9E380FCBA677AE1702076D37D4F1ADBB5353FEBB5689624715CF48D82790EB7258849B6C838E3A7AA2E9D0AF3087CC',283259);
INSERT INTO "_sqlx_migrations" VALUES(27,'flags as integers','2026-12-07 10:51:49',1,X'773D9BA2499ACDC50E404B7B2AC239B22BC0B252A848B473ED6DD811C17C06DA6978D8A8E3AABC591A9B6FBFE372BABE',19243662);
INSERT INTO "_sqlx_migrations" VALUES(28,'leases','2026-12-07 10:51:49',1,X'294B7B05CD2726DF3B6877BE35BB0071B536F34E862A2C035575F1AED99769B73872154FE485DF98F32ED83D6C3A5828',341366);
INSERT INTO "_sqlx_migrations" VALUES(29,'shared blobs','2026-12-07 10:51:49',1,X'CA609699DE216C9CF60B4A6A2A23001914F4FEE99285609AF1C139E1425E435BABA3845A3BCE407756F3A19848646C02',389396);
INSERT INTO "_sqlx_migrations" VALUES(30,'live logs','2026-12-07 10:51:49',1,X'E75897859CD70FE4B4C4F9E74255A72DA64D4C987A15D48B712D356425435895F772357443E83F21E7EACCEB27637D78',291992);
INSERT INTO "_sqlx_migrations" VALUES(31,'interrupted deployments','2026-12-07 10:51:49',1,X'FFBFAD78689248143D0D529B5B6C0C39851216BEC41195CED03B01CA077129514680287F8C2A1AB0F3B7AEDED73A66F2',1140648);
INSERT INTO "_sqlx_migrations" VALUES(32,'handoffs','2026-12-07 10:51:49',1,X'230A5B0AB440E557017870C6ADCC78FEAD4040BAED585E77C06299AD1E7D6A3CBD94CD1AA15DD198CFFE109D81D09CD8',300575);
INSERT INTO "_sqlx_migrations" VALUES(33,'agents','2026-12-07 10:51:49',1,X'24BED84F7BD93795E8906B290BC8576E158C0DE0417AC9D6627F1B4018270DE3FBC7B29D9AF4F6DF72BD5121F8692E74',7554982);
INSERT INTO "_sqlx_migrations" VALUES(34,'flag emergencies','2026-12-07 10:51:49',1,X'37A6393D1087533812ADF39390227C1F355EA42C08177702E49B73D04876165C9B4523D8E4FB7C72E8EE1C1ABE1621C9',423727);
CREATE TABLE agent_tasks (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    plan        TEXT NOT NULL,
    runs_on     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    agent_id    BIGINT,
    claim_hash  TEXT,
    lease_until BIGINT,
    state       TEXT NOT NULL,
    exit_code   BIGINT,
    error       TEXT,
    log         TEXT,
    finished_at BIGINT
);
CREATE TABLE agents (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    hash        TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL,
    created_by  TEXT NOT NULL,
    rotated_at  BIGINT,
    revoked_at  BIGINT,
    labels      TEXT NOT NULL DEFAULT '[]',
    capacity    BIGINT NOT NULL DEFAULT 0,
    version     TEXT,
    host        TEXT,
    seen_at     BIGINT,
    mode        TEXT NOT NULL DEFAULT 'active'
);
INSERT INTO "agents" VALUES(1,'local-vm-1ed5c5a5e776ad46','9775af26abf5e017d850a9f47288c6409dd8cb88cb87abf3b874698fde87dff6',1796640709581,'tandem serve',NULL,NULL,'["linux","x86_64","local"]',4,'0.1.0','vm',1796640745138,'active');
CREATE TABLE artifacts (
    id       INTEGER PRIMARY KEY,
    run_id   BIGINT NOT NULL REFERENCES runs (id),
    job_id   BIGINT NOT NULL REFERENCES jobs (id),
    name     TEXT NOT NULL,
    path     TEXT NOT NULL,
    digest   TEXT NOT NULL,
    size     BIGINT NOT NULL
, expires_at BIGINT);
INSERT INTO "artifacts" VALUES(1,1,2,'shop','target/release/shop','59c1d91c7654b5e22404dd2cd8ded23191ab776d4a3f925a66066b6d4532c9aa',695504,1799232715258);
INSERT INTO "artifacts" VALUES(2,2,4,'shop','target/release/shop','62a318e66ed2e3fb09e5150ec85e801ce5f6357b6783b1797f72ad600b701a3f',696624,1799232731938);
CREATE TABLE blob_chunks (
    digest      TEXT NOT NULL REFERENCES blobs (digest) ON DELETE CASCADE,
    seq         BIGINT NOT NULL,
    bytes       BLOB NOT NULL,
    PRIMARY KEY (digest, seq)
);
CREATE TABLE blobs (
    digest      TEXT PRIMARY KEY,
    size        BIGINT NOT NULL,
    chunks      BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE TABLE caches (
    service     TEXT NOT NULL,
    key         TEXT NOT NULL,
    digest      TEXT NOT NULL,
    size        BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (service, key)
);
CREATE TABLE change_requests (
    id           INTEGER PRIMARY KEY,
    service      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    title        TEXT NOT NULL,
    author       TEXT NOT NULL,
    author_role  TEXT NOT NULL,
    state        TEXT NOT NULL,
    revision     BIGINT NOT NULL,
    base_version BIGINT NOT NULL,
    proposed     TEXT NOT NULL,
    result       TEXT,
    version      BIGINT,
    rollout_id   BIGINT REFERENCES rollouts (id),
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
, production INTEGER NOT NULL DEFAULT 0);
INSERT INTO "change_requests" VALUES(1,'shop','flags','new checkout for 20 % of France; Black Friday banner in Benelux and France','dana (dev)','developer','done',1,0,'# The demo''s feature flags for the shop, evaluated over OFREP (docs/flags.md).
flags:
  new-checkout:
    description: One-page checkout, tried on a fifth of the pilot market first
    type: boolean
    variants: { on: true, off: false }
    default: off
    kill-switch: true            # ops may kill it at once; dev reviews afterwards
    markets:
      fr:
        rollout: { on: 20, off: 80 }
  banner-text:
    description: The home page banner
    type: string
    variants: { plain: "Welcome", sale: "Black Friday: -20%" }
    default: plain
    rules:
      - if: ''market in ["fr", "be", "nl", "lu"]''
        variant: sale
  delivery-estimate:
    description: Kill switch of T-4''s delivery estimate, off until it is fixed
    type: boolean
    variants: { on: true, off: false }
    default: off
    enabled: false
','flags version 1 in force',1,NULL,1796640733106,1796640733157,1);
INSERT INTO "change_requests" VALUES(2,'shop','config','Free shipping from 40 € in the Netherlands','dana (dev)','developer','done',1,1,'{"defaults":{"free_shipping_threshold":50,"payment_methods":["card","paypal"],"vat_rate":0.2},"regions":{"east":{"free_shipping_threshold":40},"north":{"payment_methods":["card","paypal","klarna"]}},"markets":{"be":{"payment_methods":["card","bancontact","paypal"],"vat_rate":0.21},"ch":{"free_shipping_threshold":60,"payment_methods":["card","twint"],"vat_rate":0.081},"cy":{"vat_rate":0.19},"cz":{"free_shipping_threshold":1000,"vat_rate":0.21},"de":{"payment_methods":["card","paypal","sofort"],"vat_rate":0.19},"dk":{"free_shipping_threshold":400,"payment_methods":["card","mobilepay"],"vat_rate":0.25},"ee":{"vat_rate":0.22},"es":{"payment_methods":["card","bizum","paypal"],"vat_rate":0.21},"fi":{"vat_rate":0.255},"gr":{"vat_rate":0.24},"hu":{"free_shipping_threshold":15000,"vat_rate":0.27},"ie":{"vat_rate":0.23},"it":{"vat_rate":0.22},"lt":{"vat_rate":0.21},"lu":{"vat_rate":0.17},"lv":{"vat_rate":0.21},"mt":{"vat_rate":0.18},"nl":{"free_shipping_threshold":40,"payment_methods":["ideal","card","paypal"],"vat_rate":0.21},"pl":{"free_shipping_threshold":200,"payment_methods":["blik","card","przelewy24"],"vat_rate":0.23},"pt":{"payment_methods":["card","mbway"],"vat_rate":0.23},"se":{"free_shipping_threshold":500,"payment_methods":["card","swish","klarna"],"vat_rate":0.25},"sk":{"vat_rate":0.23}}}','config v2 reached every market (rollout 3)',2,3,1796640741042,1796640742886,1);
CREATE TABLE change_reviews (
    id          INTEGER PRIMARY KEY,
    change_id   BIGINT NOT NULL REFERENCES change_requests (id),
    revision    BIGINT NOT NULL,
    reviewer    TEXT NOT NULL,
    role        TEXT NOT NULL,
    verdict     TEXT NOT NULL,
    comment     TEXT,
    at          BIGINT NOT NULL
);
INSERT INTO "change_reviews" VALUES(1,1,1,'olga (ops)','operator','approve','20 % is fine for the pilot',1796640733134);
INSERT INTO "change_reviews" VALUES(2,2,1,'olga (ops)','operator','approve','checked with finance',1796640741137);
CREATE TABLE change_revisions (
    id          INTEGER PRIMARY KEY,
    change_id   BIGINT NOT NULL REFERENCES change_requests (id),
    revision    BIGINT NOT NULL,
    author      TEXT NOT NULL,
    role        TEXT NOT NULL,
    at          BIGINT NOT NULL,
    UNIQUE (change_id, revision)
);
INSERT INTO "change_revisions" VALUES(1,1,1,'dana (dev)','developer',1796640733106);
INSERT INTO "change_revisions" VALUES(2,2,1,'dana (dev)','developer',1796640741042);
CREATE TABLE commit_ideas (
    service   TEXT NOT NULL,
    sha       TEXT NOT NULL,
    idea_key  TEXT NOT NULL,
    PRIMARY KEY (service, sha, idea_key)
);
INSERT INTO "commit_ideas" VALUES('shop','f8495e96b6340fd289c374b775eac279deb622f2','T-1');
INSERT INTO "commit_ideas" VALUES('shop','a84f40959bc7c3db8350d0e7f47c1500fdc44e3b','T-2');
INSERT INTO "commit_ideas" VALUES('shop','706d1106506d0e73d2f68dc4d9d6953d3efada0b','T-1');
INSERT INTO "commit_ideas" VALUES('shop','8cd9e46aecaf67a158b88362be89b3b04b63d483','T-4');
CREATE TABLE commits (
    service      TEXT NOT NULL,
    sha          TEXT NOT NULL,
    parents      TEXT NOT NULL,
    author       TEXT NOT NULL,
    authored_at  BIGINT NOT NULL,
    committed_at BIGINT NOT NULL,
    message      TEXT NOT NULL,
    PRIMARY KEY (service, sha)
);
INSERT INTO "commits" VALUES('shop','f8495e96b6340fd289c374b775eac279deb622f2','a84f40959bc7c3db8350d0e7f47c1500fdc44e3b','Camille Dev <camille@shop.example>',1796640709000,1796640709000,'T-1: say what the shop is in its README');
INSERT INTO "commits" VALUES('shop','a84f40959bc7c3db8350d0e7f47c1500fdc44e3b','706d1106506d0e73d2f68dc4d9d6953d3efada0b','Camille Dev <camille@shop.example>',1796640709000,1796640709000,'T-2: build, test and deploy the shop with Tandem');
INSERT INTO "commits" VALUES('shop','706d1106506d0e73d2f68dc4d9d6953d3efada0b','','Camille Dev <camille@shop.example>',1796640709000,1796640709000,'T-1: storefront in each market''s language and currency, prices with VAT');
INSERT INTO "commits" VALUES('shop','8cd9e46aecaf67a158b88362be89b3b04b63d483','f8495e96b6340fd289c374b775eac279deb622f2','Camille Dev <camille@shop.example>',1796640719000,1796640719000,'T-4: show a delivery estimate per country');
CREATE TABLE config_versions (
    id          INTEGER PRIMARY KEY,
    service     TEXT NOT NULL,
    version     BIGINT NOT NULL,
    layers      TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    message     TEXT NOT NULL,
    change_id   BIGINT,
    created_at  BIGINT NOT NULL,
    UNIQUE (service, version)
);
INSERT INTO "config_versions" VALUES(1,'shop',1,'{"defaults":{"free_shipping_threshold":50,"payment_methods":["card","paypal"],"vat_rate":0.2},"regions":{"east":{"free_shipping_threshold":40},"north":{"payment_methods":["card","paypal","klarna"]}},"markets":{"be":{"payment_methods":["card","bancontact","paypal"],"vat_rate":0.21},"ch":{"free_shipping_threshold":60,"payment_methods":["card","twint"],"vat_rate":0.081},"cy":{"vat_rate":0.19},"cz":{"free_shipping_threshold":1000,"vat_rate":0.21},"de":{"payment_methods":["card","paypal","sofort"],"vat_rate":0.19},"dk":{"free_shipping_threshold":400,"payment_methods":["card","mobilepay"],"vat_rate":0.25},"ee":{"vat_rate":0.22},"es":{"payment_methods":["card","bizum","paypal"],"vat_rate":0.21},"fi":{"vat_rate":0.255},"gr":{"vat_rate":0.24},"hu":{"free_shipping_threshold":15000,"vat_rate":0.27},"ie":{"vat_rate":0.23},"it":{"vat_rate":0.22},"lt":{"vat_rate":0.21},"lu":{"vat_rate":0.17},"lv":{"vat_rate":0.21},"mt":{"vat_rate":0.18},"nl":{"payment_methods":["ideal","card","paypal"],"vat_rate":0.21},"pl":{"free_shipping_threshold":200,"payment_methods":["blik","card","przelewy24"],"vat_rate":0.23},"pt":{"payment_methods":["card","mbway"],"vat_rate":0.23},"se":{"free_shipping_threshold":500,"payment_methods":["card","swish","klarna"],"vat_rate":0.25},"sk":{"vat_rate":0.23}}}','platform file','imported from the platform file',NULL,1796640709542);
INSERT INTO "config_versions" VALUES(2,'shop',2,'{"defaults":{"free_shipping_threshold":50,"payment_methods":["card","paypal"],"vat_rate":0.2},"regions":{"east":{"free_shipping_threshold":40},"north":{"payment_methods":["card","paypal","klarna"]}},"markets":{"be":{"payment_methods":["card","bancontact","paypal"],"vat_rate":0.21},"ch":{"free_shipping_threshold":60,"payment_methods":["card","twint"],"vat_rate":0.081},"cy":{"vat_rate":0.19},"cz":{"free_shipping_threshold":1000,"vat_rate":0.21},"de":{"payment_methods":["card","paypal","sofort"],"vat_rate":0.19},"dk":{"free_shipping_threshold":400,"payment_methods":["card","mobilepay"],"vat_rate":0.25},"ee":{"vat_rate":0.22},"es":{"payment_methods":["card","bizum","paypal"],"vat_rate":0.21},"fi":{"vat_rate":0.255},"gr":{"vat_rate":0.24},"hu":{"free_shipping_threshold":15000,"vat_rate":0.27},"ie":{"vat_rate":0.23},"it":{"vat_rate":0.22},"lt":{"vat_rate":0.21},"lu":{"vat_rate":0.17},"lv":{"vat_rate":0.21},"mt":{"vat_rate":0.18},"nl":{"free_shipping_threshold":40,"payment_methods":["ideal","card","paypal"],"vat_rate":0.21},"pl":{"free_shipping_threshold":200,"payment_methods":["blik","card","przelewy24"],"vat_rate":0.23},"pt":{"payment_methods":["card","mbway"],"vat_rate":0.23},"se":{"free_shipping_threshold":500,"payment_methods":["card","swish","klarna"],"vat_rate":0.25},"sk":{"vat_rate":0.23}}}','dana (dev)','Free shipping from 40 € in the Netherlands',2,1796640741166);
CREATE TABLE "deliveries" (
    id           INTEGER PRIMARY KEY,
    provider     TEXT NOT NULL,
    delivery_id  TEXT,
    service      TEXT NOT NULL,
    digest       TEXT NOT NULL,
    branch       TEXT,
    commit_sha   TEXT,
    received_at  BIGINT NOT NULL,
    -- `received` while being processed, `queued` with the run it started, `ignored` (the
    -- commit was already announced or built), `refused` (not on the branch, not in the
    -- repository); a refused delivery may be delivered again and is checked again.
    outcome      TEXT NOT NULL,
    reason       TEXT,
    run_id       BIGINT REFERENCES runs (id),
    UNIQUE (service, digest)
);
CREATE TABLE deployment_commits (
    deployment_id BIGINT NOT NULL REFERENCES deployments (id),
    sha           TEXT NOT NULL,
    authored_at   BIGINT NOT NULL,
    committed_at  BIGINT NOT NULL,
    PRIMARY KEY (deployment_id, sha)
);
INSERT INTO "deployment_commits" VALUES(1,'f8495e96b6340fd289c374b775eac279deb622f2',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(1,'a84f40959bc7c3db8350d0e7f47c1500fdc44e3b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(1,'706d1106506d0e73d2f68dc4d9d6953d3efada0b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(3,'f8495e96b6340fd289c374b775eac279deb622f2',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(3,'a84f40959bc7c3db8350d0e7f47c1500fdc44e3b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(3,'706d1106506d0e73d2f68dc4d9d6953d3efada0b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(2,'f8495e96b6340fd289c374b775eac279deb622f2',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(2,'a84f40959bc7c3db8350d0e7f47c1500fdc44e3b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(2,'706d1106506d0e73d2f68dc4d9d6953d3efada0b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(4,'f8495e96b6340fd289c374b775eac279deb622f2',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(4,'a84f40959bc7c3db8350d0e7f47c1500fdc44e3b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(4,'706d1106506d0e73d2f68dc4d9d6953d3efada0b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(5,'f8495e96b6340fd289c374b775eac279deb622f2',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(5,'a84f40959bc7c3db8350d0e7f47c1500fdc44e3b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(5,'706d1106506d0e73d2f68dc4d9d6953d3efada0b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(6,'f8495e96b6340fd289c374b775eac279deb622f2',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(6,'a84f40959bc7c3db8350d0e7f47c1500fdc44e3b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(6,'706d1106506d0e73d2f68dc4d9d6953d3efada0b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(7,'f8495e96b6340fd289c374b775eac279deb622f2',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(7,'a84f40959bc7c3db8350d0e7f47c1500fdc44e3b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(7,'706d1106506d0e73d2f68dc4d9d6953d3efada0b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(10,'f8495e96b6340fd289c374b775eac279deb622f2',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(10,'a84f40959bc7c3db8350d0e7f47c1500fdc44e3b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(10,'706d1106506d0e73d2f68dc4d9d6953d3efada0b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(8,'f8495e96b6340fd289c374b775eac279deb622f2',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(8,'a84f40959bc7c3db8350d0e7f47c1500fdc44e3b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(8,'706d1106506d0e73d2f68dc4d9d6953d3efada0b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(9,'f8495e96b6340fd289c374b775eac279deb622f2',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(9,'a84f40959bc7c3db8350d0e7f47c1500fdc44e3b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(9,'706d1106506d0e73d2f68dc4d9d6953d3efada0b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(11,'f8495e96b6340fd289c374b775eac279deb622f2',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(11,'a84f40959bc7c3db8350d0e7f47c1500fdc44e3b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(11,'706d1106506d0e73d2f68dc4d9d6953d3efada0b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(12,'f8495e96b6340fd289c374b775eac279deb622f2',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(12,'a84f40959bc7c3db8350d0e7f47c1500fdc44e3b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(12,'706d1106506d0e73d2f68dc4d9d6953d3efada0b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(13,'f8495e96b6340fd289c374b775eac279deb622f2',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(13,'a84f40959bc7c3db8350d0e7f47c1500fdc44e3b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(13,'706d1106506d0e73d2f68dc4d9d6953d3efada0b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(14,'f8495e96b6340fd289c374b775eac279deb622f2',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(14,'a84f40959bc7c3db8350d0e7f47c1500fdc44e3b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(14,'706d1106506d0e73d2f68dc4d9d6953d3efada0b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(16,'f8495e96b6340fd289c374b775eac279deb622f2',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(16,'a84f40959bc7c3db8350d0e7f47c1500fdc44e3b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(16,'706d1106506d0e73d2f68dc4d9d6953d3efada0b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(15,'f8495e96b6340fd289c374b775eac279deb622f2',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(15,'a84f40959bc7c3db8350d0e7f47c1500fdc44e3b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(15,'706d1106506d0e73d2f68dc4d9d6953d3efada0b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(19,'f8495e96b6340fd289c374b775eac279deb622f2',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(19,'a84f40959bc7c3db8350d0e7f47c1500fdc44e3b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(19,'706d1106506d0e73d2f68dc4d9d6953d3efada0b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(17,'f8495e96b6340fd289c374b775eac279deb622f2',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(17,'a84f40959bc7c3db8350d0e7f47c1500fdc44e3b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(17,'706d1106506d0e73d2f68dc4d9d6953d3efada0b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(18,'f8495e96b6340fd289c374b775eac279deb622f2',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(18,'a84f40959bc7c3db8350d0e7f47c1500fdc44e3b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(18,'706d1106506d0e73d2f68dc4d9d6953d3efada0b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(21,'f8495e96b6340fd289c374b775eac279deb622f2',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(21,'a84f40959bc7c3db8350d0e7f47c1500fdc44e3b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(21,'706d1106506d0e73d2f68dc4d9d6953d3efada0b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(20,'f8495e96b6340fd289c374b775eac279deb622f2',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(20,'a84f40959bc7c3db8350d0e7f47c1500fdc44e3b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(20,'706d1106506d0e73d2f68dc4d9d6953d3efada0b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(23,'f8495e96b6340fd289c374b775eac279deb622f2',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(23,'a84f40959bc7c3db8350d0e7f47c1500fdc44e3b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(23,'706d1106506d0e73d2f68dc4d9d6953d3efada0b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(25,'f8495e96b6340fd289c374b775eac279deb622f2',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(25,'a84f40959bc7c3db8350d0e7f47c1500fdc44e3b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(25,'706d1106506d0e73d2f68dc4d9d6953d3efada0b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(24,'f8495e96b6340fd289c374b775eac279deb622f2',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(24,'a84f40959bc7c3db8350d0e7f47c1500fdc44e3b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(24,'706d1106506d0e73d2f68dc4d9d6953d3efada0b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(22,'f8495e96b6340fd289c374b775eac279deb622f2',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(22,'a84f40959bc7c3db8350d0e7f47c1500fdc44e3b',1796640709000,1796640709000);
INSERT INTO "deployment_commits" VALUES(22,'706d1106506d0e73d2f68dc4d9d6953d3efada0b',1796640709000,1796640709000);
CREATE TABLE deployments (
    id           INTEGER PRIMARY KEY,
    rollout_id   BIGINT REFERENCES rollouts (id),
    service      TEXT NOT NULL,
    market       TEXT NOT NULL,
    release_id   BIGINT NOT NULL REFERENCES releases (id),
    previous_release_id BIGINT REFERENCES releases (id),
    kind         TEXT NOT NULL,
    state        TEXT NOT NULL,
    url          TEXT,
    pid          BIGINT,
    reason       TEXT,
    started_at   BIGINT NOT NULL,
    finished_at  BIGINT
, config_version BIGINT, interrupted INTEGER NOT NULL DEFAULT 0);
INSERT INTO "deployments" VALUES(1,1,'shop','fr',1,NULL,'release','live','http://127.0.0.1:32718',5355,NULL,1796640715533,1796640716048,1,0);
INSERT INTO "deployments" VALUES(2,1,'shop','be',1,NULL,'release','live','http://127.0.0.1:32719',5362,NULL,1796640716271,1796640716803,1,0);
INSERT INTO "deployments" VALUES(3,1,'shop','lu',1,NULL,'release','live','http://127.0.0.1:32720',5363,NULL,1796640716273,1796640716800,1,0);
INSERT INTO "deployments" VALUES(4,1,'shop','nl',1,NULL,'release','superseded','http://127.0.0.1:32721',5366,NULL,1796640716275,1796640716808,1,0);
INSERT INTO "deployments" VALUES(5,1,'shop','at',1,NULL,'release','live','http://127.0.0.1:32722',5372,NULL,1796640716825,1796640717363,1,0);
INSERT INTO "deployments" VALUES(6,1,'shop','ch',1,NULL,'release','live','http://127.0.0.1:32723',5373,NULL,1796640716826,1796640717367,1,0);
INSERT INTO "deployments" VALUES(7,1,'shop','de',1,NULL,'release','live','http://127.0.0.1:32724',5375,NULL,1796640716828,1796640717370,1,0);
INSERT INTO "deployments" VALUES(8,1,'shop','it',1,NULL,'release','live','http://127.0.0.1:32725',5378,NULL,1796640717397,1796640717966,1,0);
INSERT INTO "deployments" VALUES(9,1,'shop','mt',1,NULL,'release','live','http://127.0.0.1:32726',5379,NULL,1796640717399,1796640717970,1,0);
INSERT INTO "deployments" VALUES(10,1,'shop','pt',1,NULL,'release','live','http://127.0.0.1:32727',5380,NULL,1796640717401,1796640717964,1,0);
INSERT INTO "deployments" VALUES(11,1,'shop','gr',1,NULL,'release','live','http://127.0.0.1:32728',5381,NULL,1796640717406,1796640717974,1,0);
INSERT INTO "deployments" VALUES(12,1,'shop','cy',1,NULL,'release','live','http://127.0.0.1:32729',5382,NULL,1796640717408,1796640717979,1,0);
INSERT INTO "deployments" VALUES(13,1,'shop','es',1,NULL,'release','live','http://127.0.0.1:32730',5385,NULL,1796640717411,1796640717986,1,0);
INSERT INTO "deployments" VALUES(14,1,'shop','dk',1,NULL,'release','live','http://127.0.0.1:32731',5422,NULL,1796640718028,1796640718602,1,0);
INSERT INTO "deployments" VALUES(15,1,'shop','lt',1,NULL,'release','live','http://127.0.0.1:32733',5424,NULL,1796640718031,1796640718618,1,0);
INSERT INTO "deployments" VALUES(16,1,'shop','ie',1,NULL,'release','live','http://127.0.0.1:32732',5423,NULL,1796640718034,1796640718611,1,0);
INSERT INTO "deployments" VALUES(17,1,'shop','gb',1,NULL,'release','live','http://127.0.0.1:32734',5425,NULL,1796640718037,1796640718648,1,0);
INSERT INTO "deployments" VALUES(18,1,'shop','se',1,NULL,'release','live','http://127.0.0.1:32735',5426,NULL,1796640718040,1796640718651,1,0);
INSERT INTO "deployments" VALUES(19,1,'shop','hu',1,NULL,'release','live','http://127.0.0.1:32736',5427,NULL,1796640718048,1796640718620,1,0);
INSERT INTO "deployments" VALUES(20,1,'shop','pl',1,NULL,'release','live','http://127.0.0.1:32737',5430,NULL,1796640718051,1796640718665,1,0);
INSERT INTO "deployments" VALUES(21,1,'shop','fi',1,NULL,'release','live','http://127.0.0.1:32738',5431,NULL,1796640718054,1796640718662,1,0);
INSERT INTO "deployments" VALUES(22,1,'shop','ee',1,NULL,'release','live','http://127.0.0.1:32739',5441,NULL,1796640718629,1796640719219,1,0);
INSERT INTO "deployments" VALUES(23,1,'shop','cz',1,NULL,'release','live','http://127.0.0.1:32741',5443,NULL,1796640718635,1796640719204,1,0);
INSERT INTO "deployments" VALUES(24,1,'shop','sk',1,NULL,'release','live','http://127.0.0.1:32740',5442,NULL,1796640718644,1796640719213,1,0);
INSERT INTO "deployments" VALUES(25,1,'shop','lv',1,NULL,'release','live','http://127.0.0.1:32742',5444,NULL,1796640718657,1796640719209,1,0);
INSERT INTO "deployments" VALUES(26,2,'shop','fr',2,1,'release','failed',NULL,NULL,'canary at 25%: metric gate failed: errors: error ratio 41.5% (22 of 53 requests) is over the bound 1.0%',1796640732218,1796640732840,1,0);
INSERT INTO "deployments" VALUES(27,3,'shop','nl',1,1,'config','live','http://127.0.0.1:32744',6066,NULL,1796640741530,1796640742594,2,0);
CREATE TABLE events (
    id       INTEGER PRIMARY KEY,
    at       BIGINT NOT NULL,
    kind     TEXT NOT NULL,
    subject  TEXT NOT NULL,
    data     TEXT NOT NULL
, actor TEXT, via TEXT, address TEXT, outcome TEXT NOT NULL DEFAULT 'ok', prev_hash TEXT, hash TEXT);
INSERT INTO "events" VALUES(1,1796640709543,'platform.synced','platform','{"markets":25,"markets_before":0,"services":["shop"],"waves":5}','tandem',NULL,NULL,'ok','0000000000000000000000000000000000000000000000000000000000000000','007f971744d1f3e272a69b30e1f821edbe806e193f7b9923798b0bbea5f83d28');
INSERT INTO "events" VALUES(2,1796640709544,'token.created','token/1','{"expires_at":null,"name":"admin","role":"admin"}','tandem',NULL,NULL,'ok','007f971744d1f3e272a69b30e1f821edbe806e193f7b9923798b0bbea5f83d28','8e8ca84ab5920d4c23f5831484e6123a348cdc07cc17344520b850594a2ddada');
INSERT INTO "events" VALUES(3,1796640709579,'blobs.collected','blobs','{"artifacts_expired":0,"blobs_deleted":0,"bytes_freed":0,"shared_blobs_deleted":0,"shared_bytes_freed":0}','tandem',NULL,NULL,'ok','8e8ca84ab5920d4c23f5831484e6123a348cdc07cc17344520b850594a2ddada','aa79432ad95e71acc6ff20ca1ecc851d313caeef5dda3812c467b8e7cab4a101');
INSERT INTO "events" VALUES(4,1796640709581,'agent.registered','agent/local-vm-1ed5c5a5e776ad46','{"by":"tandem serve"}','tandem',NULL,NULL,'ok','aa79432ad95e71acc6ff20ca1ecc851d313caeef5dda3812c467b8e7cab4a101','1c197079c9feca5b82eae6829c7df42d23bc6ab01c337a656759a4c29ba14356');
INSERT INTO "events" VALUES(5,1796640709718,'token.created','token/2','{"expires_at":null,"name":"olga (ops)","role":"operator"}','admin','token/1','127.0.0.1','ok','1c197079c9feca5b82eae6829c7df42d23bc6ab01c337a656759a4c29ba14356','4c1ebd0411338353d1b73be9cef492dcdc59658fed6ff3e297086c1dc0f4e275');
INSERT INTO "events" VALUES(6,1796640709778,'token.created','token/3','{"expires_at":null,"name":"dana (dev)","role":"developer"}','admin','token/1','127.0.0.1','ok','4c1ebd0411338353d1b73be9cef492dcdc59658fed6ff3e297086c1dc0f4e275','ee099b30421101c9d103a8cef8b5a24d93455a774effb8e66b6ca0c8c46fa0ec');
INSERT INTO "events" VALUES(7,1796640709816,'idea.created','T-1','{"title":"Storefront in every market''s language and currency"}','admin','token/1','127.0.0.1','ok','ee099b30421101c9d103a8cef8b5a24d93455a774effb8e66b6ca0c8c46fa0ec','f1d548ce20e4c3253d9556f0f2d8e69a33a7f2ffc46ce4b8b2ca04fea28e929b');
INSERT INTO "events" VALUES(8,1796640709822,'idea.created','T-2','{"title":"Ship the shop through Tandem''s pipeline"}','admin','token/1','127.0.0.1','ok','f1d548ce20e4c3253d9556f0f2d8e69a33a7f2ffc46ce4b8b2ca04fea28e929b','9ca0ba6f1ae6418bac0cf20ee92eaaf2f1fb3511f202fd9cb1c8740ff24f43ab');
INSERT INTO "events" VALUES(9,1796640709827,'idea.created','T-3','{"title":"Pay with iDEAL in the Netherlands"}','admin','token/1','127.0.0.1','ok','9ca0ba6f1ae6418bac0cf20ee92eaaf2f1fb3511f202fd9cb1c8740ff24f43ab','46633f11eec9152397dd4fb9910a8496f2141d8d26034edb20339464d9a55980');
INSERT INTO "events" VALUES(10,1796640709840,'commit.recorded','shop','{"ideas":["T-1"],"sha":"f8495e96b6340fd289c374b775eac279deb622f2"}','admin','token/1','127.0.0.1','ok','46633f11eec9152397dd4fb9910a8496f2141d8d26034edb20339464d9a55980','b84a34393a48fbde4e02fc727bbf40d5816f8f43d197a4ce09abedbcbf1f4165');
INSERT INTO "events" VALUES(11,1796640709841,'commit.recorded','shop','{"ideas":["T-2"],"sha":"a84f40959bc7c3db8350d0e7f47c1500fdc44e3b"}','admin','token/1','127.0.0.1','ok','b84a34393a48fbde4e02fc727bbf40d5816f8f43d197a4ce09abedbcbf1f4165','284a28d6ac3a7173fb3aa4780dddb1bf04d058612958bd8bdae2b8a4d255d467');
INSERT INTO "events" VALUES(12,1796640709841,'commit.recorded','shop','{"ideas":["T-1"],"sha":"706d1106506d0e73d2f68dc4d9d6953d3efada0b"}','admin','token/1','127.0.0.1','ok','284a28d6ac3a7173fb3aa4780dddb1bf04d058612958bd8bdae2b8a4d255d467','1937e0cb33c6f2b32e8c9d85b0094ee6b2582f7e1fbc05d31b35f51e4842cf5b');
INSERT INTO "events" VALUES(13,1796640709849,'run.queued','run/1','{"branch":"main","commit":"f8495e96b6340fd289c374b775eac279deb622f2","service":"shop","trigger":"api"}','admin','token/1','127.0.0.1','ok','1937e0cb33c6f2b32e8c9d85b0094ee6b2582f7e1fbc05d31b35f51e4842cf5b','f1cb5519b0195aa4d0fc4e7309b150aa20896e5655dd96fe99b25f9b239e510a');
INSERT INTO "events" VALUES(14,1796640709864,'run.started','run/1','{"jobs":2}','tandem',NULL,NULL,'ok','f1cb5519b0195aa4d0fc4e7309b150aa20896e5655dd96fe99b25f9b239e510a','72e9d14a85d2c5fe086e1e3c5cfa5554a4000e8b8c24b98da6cfdfd7cb180c0a');
INSERT INTO "events" VALUES(15,1796640709869,'job.offered','job/1','{"runs_on":[]}','tandem',NULL,NULL,'ok','72e9d14a85d2c5fe086e1e3c5cfa5554a4000e8b8c24b98da6cfdfd7cb180c0a','24a7870bbb744cc11fac42bbd7d3f4c4bfca2157bde4073d6c066e2ef8c26846');
INSERT INTO "events" VALUES(16,1796640709871,'job.running','job/1','{"agent":"local-vm-1ed5c5a5e776ad46"}','agent local-vm-1ed5c5a5e776ad46','agent/local-vm-1ed5c5a5e776ad46','127.0.0.1','ok','24a7870bbb744cc11fac42bbd7d3f4c4bfca2157bde4073d6c066e2ef8c26846','b96349b6a130aa5881fb729b75d403dbe930698c1117db03d348827313b6f5b5');
INSERT INTO "events" VALUES(17,1796640711794,'log.stored','57fbd110208b6ba52d2e1f22ca67a2f7d670c5fee7116f2844a2b622dd83bbce','{"chunks":1,"size":299}','agent local-vm-1ed5c5a5e776ad46','job/1','127.0.0.1','ok','b96349b6a130aa5881fb729b75d403dbe930698c1117db03d348827313b6f5b5','104c0f9ab2a00d3ba5db1cdf9ec9b051a946fc8baef1c26b538eaf8192ebb5f7');
INSERT INTO "events" VALUES(18,1796640711795,'job.success','job/1','{"exit_code":0,"log_bytes":299}','agent local-vm-1ed5c5a5e776ad46','job/1','127.0.0.1','ok','104c0f9ab2a00d3ba5db1cdf9ec9b051a946fc8baef1c26b538eaf8192ebb5f7','4ed368cc74f8c3c3a904c0bac0d0a3fdd34a5da7d3eca7f830e7e9c0d45a5ddc');
INSERT INTO "events" VALUES(19,1796640711797,'job.offered','job/2','{"runs_on":[]}','tandem',NULL,NULL,'ok','4ed368cc74f8c3c3a904c0bac0d0a3fdd34a5da7d3eca7f830e7e9c0d45a5ddc','2c8694e1a5b3da0970cf819dd3215832dca71270307140f2af7a6e8fd6cec158');
INSERT INTO "events" VALUES(20,1796640711799,'job.running','job/2','{"agent":"local-vm-1ed5c5a5e776ad46"}','agent local-vm-1ed5c5a5e776ad46','agent/local-vm-1ed5c5a5e776ad46','127.0.0.1','ok','2c8694e1a5b3da0970cf819dd3215832dca71270307140f2af7a6e8fd6cec158','99f84e1f17952d0e12a16ea2967b83b71887111bbfc1e2169711b8e9a368cf14');
INSERT INTO "events" VALUES(21,1796640715259,'artifact.stored','run/1','{"digest":"59c1d91c7654b5e22404dd2cd8ded23191ab776d4a3f925a66066b6d4532c9aa","name":"shop","size":695504}','agent local-vm-1ed5c5a5e776ad46','job/2','127.0.0.1','ok','99f84e1f17952d0e12a16ea2967b83b71887111bbfc1e2169711b8e9a368cf14','fc1bbcdea8b53ad7900c167a07a892a2d34ec25bcf6e28a02642161ac70f6bc5');
INSERT INTO "events" VALUES(22,1796640715277,'log.stored','3de702a8774ac7470c2aea063f977fd8364649958240e47fba450f02a8f84a05','{"chunks":1,"size":243}','agent local-vm-1ed5c5a5e776ad46','job/2','127.0.0.1','ok','fc1bbcdea8b53ad7900c167a07a892a2d34ec25bcf6e28a02642161ac70f6bc5','19456151c96f3efab46feddf815816800ef4ca58943f16a9b97ea740638362df');
INSERT INTO "events" VALUES(23,1796640715277,'job.success','job/2','{"exit_code":0,"log_bytes":243}','agent local-vm-1ed5c5a5e776ad46','job/2','127.0.0.1','ok','19456151c96f3efab46feddf815816800ef4ca58943f16a9b97ea740638362df','e6e5bdae02e41959753075dcab77f2449606493822009f3410316c6e11e56965');
INSERT INTO "events" VALUES(24,1796640715295,'release.created','release/1','{"commit":"f8495e96b6340fd289c374b775eac279deb622f2","run":1,"service":"shop","version":"v1"}','tandem',NULL,NULL,'ok','e6e5bdae02e41959753075dcab77f2449606493822009f3410316c6e11e56965','1f73927ffde33ead716f9d287364b4c3b98136ebb5b3e11912c05a8d9da32545');
INSERT INTO "events" VALUES(25,1796640715297,'run.success','run/1','{"error":null,"state":"success"}','tandem',NULL,NULL,'ok','1f73927ffde33ead716f9d287364b4c3b98136ebb5b3e11912c05a8d9da32545','5267d7ef22ae16e89eb6823d9a3bb65e682f7e594b55b35f23c5e7270f9da724');
INSERT INTO "events" VALUES(26,1796640715495,'rollout.created','rollout/1','{"config_version":null,"release":1,"service":"shop","state":"pending","waves":5}','admin','token/1','127.0.0.1','ok','5267d7ef22ae16e89eb6823d9a3bb65e682f7e594b55b35f23c5e7270f9da724','2c5b73a037900c264d00350fc1c91df13d7d81ab15b854b6d5555c670e35b0b3');
INSERT INTO "events" VALUES(27,1796640715527,'rollout.running','rollout/1','{"by":"engine","from":"pending","wave":0}','tandem',NULL,NULL,'ok','2c5b73a037900c264d00350fc1c91df13d7d81ab15b854b6d5555c670e35b0b3','c3b3de4cf0cae033cd559dc251e3c1e86ef2c7a29707a98cd794b5f76e367f2b');
INSERT INTO "events" VALUES(28,1796640715534,'deployment.started','deployment/1','{"kind":"release","market":"fr","release":1,"service":"shop"}','tandem',NULL,NULL,'ok','c3b3de4cf0cae033cd559dc251e3c1e86ef2c7a29707a98cd794b5f76e367f2b','6d87ad7ad358f78b0bec37bd43c7d38031e550d58019b51fc245ed0a2a3a5bae');
INSERT INTO "events" VALUES(29,1796640716049,'deployment.live','deployment/1','{"market":"fr","release":1,"url":"http://127.0.0.1:32718"}','tandem',NULL,NULL,'ok','6d87ad7ad358f78b0bec37bd43c7d38031e550d58019b51fc245ed0a2a3a5bae','f1c521fff0f5ca28abad7c88981ed5563286f621cb1cb213d65362c06b82a581');
INSERT INTO "events" VALUES(30,1796640716056,'deployment.commits','deployment/1','{"commits":3,"deployment":1}','tandem',NULL,NULL,'ok','f1c521fff0f5ca28abad7c88981ed5563286f621cb1cb213d65362c06b82a581','54243a915ce22a9c4f900c3d9e6d049e13d66b1e9b5d4961e1b215a3a72694ad');
INSERT INTO "events" VALUES(31,1796640716057,'rollout.awaiting-approval','rollout/1','{"by":"engine","from":"running","wave":1}','tandem',NULL,NULL,'ok','54243a915ce22a9c4f900c3d9e6d049e13d66b1e9b5d4961e1b215a3a72694ad','c403aac4b8f9f09abe1e0e62cd379873327e1fb0d076edf59ee4f1c60140afd3');
INSERT INTO "events" VALUES(32,1796640716062,'notification.sent','notification/team-chat','{"attempts":1,"error":null,"event":"approval.requested","hook":"team-chat"}','tandem',NULL,NULL,'ok','c403aac4b8f9f09abe1e0e62cd379873327e1fb0d076edf59ee4f1c60140afd3','387c6ad91e978c4e5d87fb8776fb1d8b7de49c04a510903b84e832bebb495486');
INSERT INTO "events" VALUES(33,1796640716132,'rollout.approve','rollout/1','{"by":"olga (ops)","kind":"approve","market":null,"reason":null,"wave":1}','olga (ops)','token/2','127.0.0.1','ok','387c6ad91e978c4e5d87fb8776fb1d8b7de49c04a510903b84e832bebb495486','1c1a34aff449493204379e3da85d36996068ad0168f01ada93973cdc618ad76f');
INSERT INTO "events" VALUES(34,1796640716132,'rollout.running','rollout/1','{"by":"olga (ops)","from":"awaiting-approval","wave":1}','olga (ops)','token/2','127.0.0.1','ok','1c1a34aff449493204379e3da85d36996068ad0168f01ada93973cdc618ad76f','94ed6c0141cc2ddaa0033863cb20057e08bbea46dba894369c1feda2140260c2');
INSERT INTO "events" VALUES(35,1796640716272,'deployment.started','deployment/2','{"kind":"release","market":"be","release":1,"service":"shop"}','tandem',NULL,NULL,'ok','94ed6c0141cc2ddaa0033863cb20057e08bbea46dba894369c1feda2140260c2','99e8615990707ba70e71cdb9e4c12117c6b20dd7fe2cefd617e0e65b4cddee66');
INSERT INTO "events" VALUES(36,1796640716274,'deployment.started','deployment/3','{"kind":"release","market":"lu","release":1,"service":"shop"}','tandem',NULL,NULL,'ok','99e8615990707ba70e71cdb9e4c12117c6b20dd7fe2cefd617e0e65b4cddee66','349c844064219d047d753d92978091097f55204e87238a7b0ad38475a551b3e3');
INSERT INTO "events" VALUES(37,1796640716276,'deployment.started','deployment/4','{"kind":"release","market":"nl","release":1,"service":"shop"}','tandem',NULL,NULL,'ok','349c844064219d047d753d92978091097f55204e87238a7b0ad38475a551b3e3','dd2ca0d85effd2812c339c04a94fdee9251bb7c66b14bf43084412c11e2b605d');
INSERT INTO "events" VALUES(38,1796640716801,'deployment.live','deployment/3','{"market":"lu","release":1,"url":"http://127.0.0.1:32720"}','tandem',NULL,NULL,'ok','dd2ca0d85effd2812c339c04a94fdee9251bb7c66b14bf43084412c11e2b605d','309de668cfb4a7fcafb23c25b2f26e1b53c54a3f63b123dce7dbd047384f6a53');
INSERT INTO "events" VALUES(39,1796640716803,'deployment.live','deployment/2','{"market":"be","release":1,"url":"http://127.0.0.1:32719"}','tandem',NULL,NULL,'ok','309de668cfb4a7fcafb23c25b2f26e1b53c54a3f63b123dce7dbd047384f6a53','4561a3fd7775c8a3883f57ec70678041fa604231dc3fa9d31e694babe4158f76');
INSERT INTO "events" VALUES(40,1796640716808,'deployment.live','deployment/4','{"market":"nl","release":1,"url":"http://127.0.0.1:32721"}','tandem',NULL,NULL,'ok','4561a3fd7775c8a3883f57ec70678041fa604231dc3fa9d31e694babe4158f76','17e8603684c5d31884c9446cae20a763d753e92e89f7d7f6b1a46a51509f12c1');
INSERT INTO "events" VALUES(41,1796640716811,'deployment.commits','deployment/3','{"commits":3,"deployment":3}','tandem',NULL,NULL,'ok','17e8603684c5d31884c9446cae20a763d753e92e89f7d7f6b1a46a51509f12c1','69e2944433c7310035a3888c6c41e19c0a65f4de469f8246a0c3c9b354b4e9ae');
INSERT INTO "events" VALUES(42,1796640716814,'deployment.commits','deployment/2','{"commits":3,"deployment":2}','tandem',NULL,NULL,'ok','69e2944433c7310035a3888c6c41e19c0a65f4de469f8246a0c3c9b354b4e9ae','09d7d51653cd50476cc186f8b21ace8a36d94274f0d2b9dd86af44eba7dac50e');
INSERT INTO "events" VALUES(43,1796640716817,'rollout.running','rollout/1','{"by":"engine","from":"running","wave":2}','tandem',NULL,NULL,'ok','09d7d51653cd50476cc186f8b21ace8a36d94274f0d2b9dd86af44eba7dac50e','a8f1ca23db57ad77f95cb3d1961c21b39806b9a5936f78ef2ff3c5b02a43d632');
INSERT INTO "events" VALUES(44,1796640716818,'deployment.commits','deployment/4','{"commits":3,"deployment":4}','tandem',NULL,NULL,'ok','a8f1ca23db57ad77f95cb3d1961c21b39806b9a5936f78ef2ff3c5b02a43d632','31a4576860c55309c2b195462ceacc1251aabe65e516d09357bd2cee1e2e2ef8');
INSERT INTO "events" VALUES(45,1796640716825,'deployment.started','deployment/5','{"kind":"release","market":"at","release":1,"service":"shop"}','tandem',NULL,NULL,'ok','31a4576860c55309c2b195462ceacc1251aabe65e516d09357bd2cee1e2e2ef8','29681b9800956739238b75ef5ace4591101034263ea13817b7dd7af2bf713d2d');
INSERT INTO "events" VALUES(46,1796640716827,'deployment.started','deployment/6','{"kind":"release","market":"ch","release":1,"service":"shop"}','tandem',NULL,NULL,'ok','29681b9800956739238b75ef5ace4591101034263ea13817b7dd7af2bf713d2d','546fe6e765763e98add28fe6b6bc8107aeaae56a870f40341adf0b2a4a26e4af');
INSERT INTO "events" VALUES(47,1796640716829,'deployment.started','deployment/7','{"kind":"release","market":"de","release":1,"service":"shop"}','tandem',NULL,NULL,'ok','546fe6e765763e98add28fe6b6bc8107aeaae56a870f40341adf0b2a4a26e4af','1624ff0e74026ffc19d8e89fe65108950719803507304eeed5636b453a4ea164');
INSERT INTO "events" VALUES(48,1796640717364,'deployment.live','deployment/5','{"market":"at","release":1,"url":"http://127.0.0.1:32722"}','tandem',NULL,NULL,'ok','1624ff0e74026ffc19d8e89fe65108950719803507304eeed5636b453a4ea164','74f9fd19c1b4cf0f55c83d9f52e7ee996b91808b583ea7ec04d70e131108406c');
INSERT INTO "events" VALUES(49,1796640717369,'deployment.live','deployment/6','{"market":"ch","release":1,"url":"http://127.0.0.1:32723"}','tandem',NULL,NULL,'ok','74f9fd19c1b4cf0f55c83d9f52e7ee996b91808b583ea7ec04d70e131108406c','d0ad5995543e33ed44c04c768b104892079e16724d1b27773ab72bb50fa7dce4');
INSERT INTO "events" VALUES(50,1796640717371,'deployment.live','deployment/7','{"market":"de","release":1,"url":"http://127.0.0.1:32724"}','tandem',NULL,NULL,'ok','d0ad5995543e33ed44c04c768b104892079e16724d1b27773ab72bb50fa7dce4','ef9faf7355c56258e5e09ac050459b86489ca557262b1752f20a58a28ddc282c');
INSERT INTO "events" VALUES(51,1796640717373,'deployment.commits','deployment/5','{"commits":3,"deployment":5}','tandem',NULL,NULL,'ok','ef9faf7355c56258e5e09ac050459b86489ca557262b1752f20a58a28ddc282c','bbc1d480dc388039f1cfc9a5ce1544f3aeba3617971356876f96a9cab39d23c1');
INSERT INTO "events" VALUES(52,1796640717385,'deployment.commits','deployment/6','{"commits":3,"deployment":6}','tandem',NULL,NULL,'ok','bbc1d480dc388039f1cfc9a5ce1544f3aeba3617971356876f96a9cab39d23c1','726612547f9f9e588a59a5cc10e9fb5009bfdf59a703864caddfc8e188e87b69');
INSERT INTO "events" VALUES(53,1796640717386,'rollout.running','rollout/1','{"by":"engine","from":"running","wave":3}','tandem',NULL,NULL,'ok','726612547f9f9e588a59a5cc10e9fb5009bfdf59a703864caddfc8e188e87b69','a134440ce55d783faa79741332bcf61097b8cfc5b8f0c4d2a9508abcf394da13');
INSERT INTO "events" VALUES(54,1796640717388,'deployment.commits','deployment/7','{"commits":3,"deployment":7}','tandem',NULL,NULL,'ok','a134440ce55d783faa79741332bcf61097b8cfc5b8f0c4d2a9508abcf394da13','82886f5857dd9f1e6e00c3321d7ea35abb5c90da2373cb5cdec2627dc03c567f');
INSERT INTO "events" VALUES(55,1796640717398,'deployment.started','deployment/8','{"kind":"release","market":"it","release":1,"service":"shop"}','tandem',NULL,NULL,'ok','82886f5857dd9f1e6e00c3321d7ea35abb5c90da2373cb5cdec2627dc03c567f','a56adb6406755d66926f8d268d91f1edce32f649ef56743b060473f730535329');
INSERT INTO "events" VALUES(56,1796640717400,'deployment.started','deployment/9','{"kind":"release","market":"mt","release":1,"service":"shop"}','tandem',NULL,NULL,'ok','a56adb6406755d66926f8d268d91f1edce32f649ef56743b060473f730535329','b013ede338e31a0dee8e1e7f7a0440e0981d7d33e8b6441540413b6d42e413a0');
INSERT INTO "events" VALUES(57,1796640717404,'deployment.started','deployment/10','{"kind":"release","market":"pt","release":1,"service":"shop"}','tandem',NULL,NULL,'ok','b013ede338e31a0dee8e1e7f7a0440e0981d7d33e8b6441540413b6d42e413a0','5035e98de00ee4cf5908321136a90224592cf3cdcbb2920ce9a701fc4aceb2e1');
INSERT INTO "events" VALUES(58,1796640717407,'deployment.started','deployment/11','{"kind":"release","market":"gr","release":1,"service":"shop"}','tandem',NULL,NULL,'ok','5035e98de00ee4cf5908321136a90224592cf3cdcbb2920ce9a701fc4aceb2e1','62106e420d67625caff5f4b12df98424a62afe45a83e9c897d0902cf740e60cd');
INSERT INTO "events" VALUES(59,1796640717410,'deployment.started','deployment/12','{"kind":"release","market":"cy","release":1,"service":"shop"}','tandem',NULL,NULL,'ok','62106e420d67625caff5f4b12df98424a62afe45a83e9c897d0902cf740e60cd','865b46102208a93b1f4b9c02b4f2bf8c6fedc4c9afa6c6ec72259c175235252c');
INSERT INTO "events" VALUES(60,1796640717413,'deployment.started','deployment/13','{"kind":"release","market":"es","release":1,"service":"shop"}','tandem',NULL,NULL,'ok','865b46102208a93b1f4b9c02b4f2bf8c6fedc4c9afa6c6ec72259c175235252c','a06f631e9a6df2f4cec1d9f5646ba3bb700676efcb366cec85a863cca902a8be');
INSERT INTO "events" VALUES(61,1796640717964,'deployment.live','deployment/10','{"market":"pt","release":1,"url":"http://127.0.0.1:32727"}','tandem',NULL,NULL,'ok','a06f631e9a6df2f4cec1d9f5646ba3bb700676efcb366cec85a863cca902a8be','2ac295881905f16f420055d6ae9bda1ed66e81777ec499e6d6ce046a0bb4e519');
INSERT INTO "events" VALUES(62,1796640717967,'deployment.live','deployment/8','{"market":"it","release":1,"url":"http://127.0.0.1:32725"}','tandem',NULL,NULL,'ok','2ac295881905f16f420055d6ae9bda1ed66e81777ec499e6d6ce046a0bb4e519','d40bc89dc325ed0757ada60b4b27b0fcc592e82db643a7359172cd9d05cbfdcd');
INSERT INTO "events" VALUES(63,1796640717971,'deployment.live','deployment/9','{"market":"mt","release":1,"url":"http://127.0.0.1:32726"}','tandem',NULL,NULL,'ok','d40bc89dc325ed0757ada60b4b27b0fcc592e82db643a7359172cd9d05cbfdcd','d73a661e881358a45e7942d3ee14c962ce0919f9fe078700eae848343c79f75b');
INSERT INTO "events" VALUES(64,1796640717976,'deployment.live','deployment/11','{"market":"gr","release":1,"url":"http://127.0.0.1:32728"}','tandem',NULL,NULL,'ok','d73a661e881358a45e7942d3ee14c962ce0919f9fe078700eae848343c79f75b','1425e399789e4edc2944bda988ab31142d0ea5b1be14d8c5125b8e442df1df2f');
INSERT INTO "events" VALUES(65,1796640717982,'deployment.live','deployment/12','{"market":"cy","release":1,"url":"http://127.0.0.1:32729"}','tandem',NULL,NULL,'ok','1425e399789e4edc2944bda988ab31142d0ea5b1be14d8c5125b8e442df1df2f','f58dc58a9b15d096a1c1565915189707275337b075fdc0683b008ff28dfccc93');
INSERT INTO "events" VALUES(66,1796640717988,'deployment.live','deployment/13','{"market":"es","release":1,"url":"http://127.0.0.1:32730"}','tandem',NULL,NULL,'ok','f58dc58a9b15d096a1c1565915189707275337b075fdc0683b008ff28dfccc93','d8964fbd924ced930aa20ae5a7eae0200b3bf531a5966e93370c57b7cc2eba3b');
INSERT INTO "events" VALUES(67,1796640717992,'deployment.commits','deployment/10','{"commits":3,"deployment":10}','tandem',NULL,NULL,'ok','d8964fbd924ced930aa20ae5a7eae0200b3bf531a5966e93370c57b7cc2eba3b','53f9969fd3af5a7ca89248537f71ec102bd4596a443e7482e4b3620d51a9edd8');
INSERT INTO "events" VALUES(68,1796640717994,'deployment.commits','deployment/8','{"commits":3,"deployment":8}','tandem',NULL,NULL,'ok','53f9969fd3af5a7ca89248537f71ec102bd4596a443e7482e4b3620d51a9edd8','56fcf05fcb5b5a4c71ea0f420a06d999302e69a267c9a4e365ba68166fe76465');
INSERT INTO "events" VALUES(69,1796640717996,'deployment.commits','deployment/9','{"commits":3,"deployment":9}','tandem',NULL,NULL,'ok','56fcf05fcb5b5a4c71ea0f420a06d999302e69a267c9a4e365ba68166fe76465','b5c5b8940c6e62251e89d58135c34093d29759e50423db99bbec53a881f97463');
INSERT INTO "events" VALUES(70,1796640717997,'deployment.commits','deployment/11','{"commits":3,"deployment":11}','tandem',NULL,NULL,'ok','b5c5b8940c6e62251e89d58135c34093d29759e50423db99bbec53a881f97463','cf7a682aeb8de88173d2eaedf4bdf222fdeb74d8d90baa8c11587f55a2168b73');
INSERT INTO "events" VALUES(71,1796640718007,'deployment.commits','deployment/12','{"commits":3,"deployment":12}','tandem',NULL,NULL,'ok','cf7a682aeb8de88173d2eaedf4bdf222fdeb74d8d90baa8c11587f55a2168b73','4a8044c5d8ea1412fed13627dba01c0cc81113a30ce6944495f42db41c7bc3b5');
INSERT INTO "events" VALUES(72,1796640718011,'rollout.running','rollout/1','{"by":"engine","from":"running","wave":4}','tandem',NULL,NULL,'ok','4a8044c5d8ea1412fed13627dba01c0cc81113a30ce6944495f42db41c7bc3b5','f00d1a001362cdc3c02612e6e787fe3b909df95d093c338e2298023558c8a7a0');
INSERT INTO "events" VALUES(73,1796640718013,'deployment.commits','deployment/13','{"commits":3,"deployment":13}','tandem',NULL,NULL,'ok','f00d1a001362cdc3c02612e6e787fe3b909df95d093c338e2298023558c8a7a0','38b29c97983b184bc40993017313cf2a7d7908dd1d7352c7d9cdd1748b8cd408');
INSERT INTO "events" VALUES(74,1796640718029,'deployment.started','deployment/14','{"kind":"release","market":"dk","release":1,"service":"shop"}','tandem',NULL,NULL,'ok','38b29c97983b184bc40993017313cf2a7d7908dd1d7352c7d9cdd1748b8cd408','c9e2643ee19d9bb2155bc4c846b7c6eee65bd4d67b652280e7a408a208bf57e2');
INSERT INTO "events" VALUES(75,1796640718032,'deployment.started','deployment/15','{"kind":"release","market":"lt","release":1,"service":"shop"}','tandem',NULL,NULL,'ok','c9e2643ee19d9bb2155bc4c846b7c6eee65bd4d67b652280e7a408a208bf57e2','3048c6ede836756495aba97e7a128e059b6236beb3f4cdfb3c0b9666a498ae4d');
INSERT INTO "events" VALUES(76,1796640718035,'deployment.started','deployment/16','{"kind":"release","market":"ie","release":1,"service":"shop"}','tandem',NULL,NULL,'ok','3048c6ede836756495aba97e7a128e059b6236beb3f4cdfb3c0b9666a498ae4d','94c490a97d1c54d55a2df15ee81179cce89a4f32262da1f0606b5f5634dcc500');
INSERT INTO "events" VALUES(77,1796640718039,'deployment.started','deployment/17','{"kind":"release","market":"gb","release":1,"service":"shop"}','tandem',NULL,NULL,'ok','94c490a97d1c54d55a2df15ee81179cce89a4f32262da1f0606b5f5634dcc500','9b9695de26dd0f1f6ffabfe4acf393a84707a5cb75d939729b2504f1036a6e63');
INSERT INTO "events" VALUES(78,1796640718042,'deployment.started','deployment/18','{"kind":"release","market":"se","release":1,"service":"shop"}','tandem',NULL,NULL,'ok','9b9695de26dd0f1f6ffabfe4acf393a84707a5cb75d939729b2504f1036a6e63','ef823bb3ef2ec9fbbfc69e2d73e1a0eb21824125c9a80cbf6534870a1f478979');
INSERT INTO "events" VALUES(79,1796640718049,'deployment.started','deployment/19','{"kind":"release","market":"hu","release":1,"service":"shop"}','tandem',NULL,NULL,'ok','ef823bb3ef2ec9fbbfc69e2d73e1a0eb21824125c9a80cbf6534870a1f478979','94aca817dca8499efbc945ca27bdb9107c0c58885b7c8c8ba383842485e8c32e');
INSERT INTO "events" VALUES(80,1796640718052,'deployment.started','deployment/20','{"kind":"release","market":"pl","release":1,"service":"shop"}','tandem',NULL,NULL,'ok','94aca817dca8499efbc945ca27bdb9107c0c58885b7c8c8ba383842485e8c32e','bddc0e7f62160a5976a3072d9e426beb305ba2337964b222e80c753dd8efdc24');
INSERT INTO "events" VALUES(81,1796640718055,'deployment.started','deployment/21','{"kind":"release","market":"fi","release":1,"service":"shop"}','tandem',NULL,NULL,'ok','bddc0e7f62160a5976a3072d9e426beb305ba2337964b222e80c753dd8efdc24','d99e2139ee44695378699240e836e42af26aa913f0dcd44a37729467d52ace82');
INSERT INTO "events" VALUES(82,1796640718602,'deployment.live','deployment/14','{"market":"dk","release":1,"url":"http://127.0.0.1:32731"}','tandem',NULL,NULL,'ok','d99e2139ee44695378699240e836e42af26aa913f0dcd44a37729467d52ace82','e85a18f2b8f3854aa898cbc738270e00ab7acf8a3bfe9c41663f55884d3f4a20');
INSERT INTO "events" VALUES(83,1796640718612,'deployment.live','deployment/16','{"market":"ie","release":1,"url":"http://127.0.0.1:32732"}','tandem',NULL,NULL,'ok','e85a18f2b8f3854aa898cbc738270e00ab7acf8a3bfe9c41663f55884d3f4a20','c6febc018ebaed5a31595d51bb6ffda50751a3598fe832cddf8a316b1f054b35');
INSERT INTO "events" VALUES(84,1796640718619,'deployment.live','deployment/15','{"market":"lt","release":1,"url":"http://127.0.0.1:32733"}','tandem',NULL,NULL,'ok','c6febc018ebaed5a31595d51bb6ffda50751a3598fe832cddf8a316b1f054b35','3662f6dffd7c6e3ad2eac0331f37c6d60754411e7e1227cd13103bd851082353');
INSERT INTO "events" VALUES(85,1796640718620,'market.launching','market/hu','{"market":"hu","service":"shop","deployment":19,"release":1}','tandem',NULL,NULL,'ok','3662f6dffd7c6e3ad2eac0331f37c6d60754411e7e1227cd13103bd851082353','21f897ff940ad8027a8829558e17df5276edede4eb4d4fa6e37c842639bf7d78');
INSERT INTO "events" VALUES(86,1796640718623,'deployment.live','deployment/19','{"market":"hu","release":1,"url":"http://127.0.0.1:32736"}','tandem',NULL,NULL,'ok','21f897ff940ad8027a8829558e17df5276edede4eb4d4fa6e37c842639bf7d78','186d07f0a3d8a4a8aa16a8da4fd0a6a77bdf3f5f3deb82e6498382fb5a65bfeb');
INSERT INTO "events" VALUES(87,1796640718629,'deployment.started','deployment/22','{"kind":"release","market":"ee","release":1,"service":"shop"}','tandem',NULL,NULL,'ok','186d07f0a3d8a4a8aa16a8da4fd0a6a77bdf3f5f3deb82e6498382fb5a65bfeb','94f65c9aa3fc92bc14452055baf1b3c1710cefa0ce1dc174ebed709c29b402da');
INSERT INTO "events" VALUES(88,1796640718631,'deployment.commits','deployment/14','{"commits":3,"deployment":14}','tandem',NULL,NULL,'ok','94f65c9aa3fc92bc14452055baf1b3c1710cefa0ce1dc174ebed709c29b402da','57e602b73e4bb18bb031294412017c97846ebd2fe719b16d502b2be164bc9cff');
INSERT INTO "events" VALUES(89,1796640718637,'deployment.started','deployment/23','{"kind":"release","market":"cz","release":1,"service":"shop"}','tandem',NULL,NULL,'ok','57e602b73e4bb18bb031294412017c97846ebd2fe719b16d502b2be164bc9cff','b640da7d5653ed0ad5b3a98685cffd4257c057116b4e410c7abe4b130a147bad');
INSERT INTO "events" VALUES(90,1796640718643,'deployment.commits','deployment/16','{"commits":3,"deployment":16}','tandem',NULL,NULL,'ok','b640da7d5653ed0ad5b3a98685cffd4257c057116b4e410c7abe4b130a147bad','c6c1558b7f4aea447592f1fdad620af7ff4de4093e8f5f51138ba5b60859dab4');
INSERT INTO "events" VALUES(91,1796640718647,'deployment.started','deployment/24','{"kind":"release","market":"sk","release":1,"service":"shop"}','tandem',NULL,NULL,'ok','c6c1558b7f4aea447592f1fdad620af7ff4de4093e8f5f51138ba5b60859dab4','071e04d2d11c66dc1e35e0a23a435cb85b6d13798a936c824ffc02e36151571d');
INSERT INTO "events" VALUES(92,1796640718649,'deployment.live','deployment/17','{"market":"gb","release":1,"url":"http://127.0.0.1:32734"}','tandem',NULL,NULL,'ok','071e04d2d11c66dc1e35e0a23a435cb85b6d13798a936c824ffc02e36151571d','456f385d84e3efd76f0391e6066598aec37f283a840793d242b084c93539ab30');
INSERT INTO "events" VALUES(93,1796640718653,'deployment.live','deployment/18','{"market":"se","release":1,"url":"http://127.0.0.1:32735"}','tandem',NULL,NULL,'ok','456f385d84e3efd76f0391e6066598aec37f283a840793d242b084c93539ab30','8c06b326d730d5a05051add4590b7b5ed5436e59146102fe60050c96020b0ad0');
INSERT INTO "events" VALUES(94,1796640718657,'deployment.commits','deployment/15','{"commits":3,"deployment":15}','tandem',NULL,NULL,'ok','8c06b326d730d5a05051add4590b7b5ed5436e59146102fe60050c96020b0ad0','910d1643b6542a4da53c0dd6b326e2169425dbc63641becb499ea11ecb669815');
INSERT INTO "events" VALUES(95,1796640718660,'deployment.started','deployment/25','{"kind":"release","market":"lv","release":1,"service":"shop"}','tandem',NULL,NULL,'ok','910d1643b6542a4da53c0dd6b326e2169425dbc63641becb499ea11ecb669815','a840f0e8edc843730c695920aceb706236fc62414465e89afbb84d662feaea07');
INSERT INTO "events" VALUES(96,1796640718663,'deployment.live','deployment/21','{"market":"fi","release":1,"url":"http://127.0.0.1:32738"}','tandem',NULL,NULL,'ok','a840f0e8edc843730c695920aceb706236fc62414465e89afbb84d662feaea07','6250e73a9f9ccbb782f6730b72035024686d207627f48b79b7817fe707cca96d');
INSERT INTO "events" VALUES(97,1796640718666,'deployment.live','deployment/20','{"market":"pl","release":1,"url":"http://127.0.0.1:32737"}','tandem',NULL,NULL,'ok','6250e73a9f9ccbb782f6730b72035024686d207627f48b79b7817fe707cca96d','8f9989e5ee72fca71b26e6e6b3c92c0300d71c06586be6590edfd41ac0ed9b45');
INSERT INTO "events" VALUES(98,1796640718667,'deployment.commits','deployment/19','{"commits":3,"deployment":19}','tandem',NULL,NULL,'ok','8f9989e5ee72fca71b26e6e6b3c92c0300d71c06586be6590edfd41ac0ed9b45','46a7287ca87c7bc546bd24d3aa338ead9fc758d1bef6a4fa5797f06aa9871345');
INSERT INTO "events" VALUES(99,1796640718673,'deployment.commits','deployment/17','{"commits":3,"deployment":17}','tandem',NULL,NULL,'ok','46a7287ca87c7bc546bd24d3aa338ead9fc758d1bef6a4fa5797f06aa9871345','9fb4e30362228ca805a26bed38d00b46cef179f99408888d9254b6ccd7e065e9');
INSERT INTO "events" VALUES(100,1796640718674,'deployment.commits','deployment/18','{"commits":3,"deployment":18}','tandem',NULL,NULL,'ok','9fb4e30362228ca805a26bed38d00b46cef179f99408888d9254b6ccd7e065e9','05f02b054e6803c8021ca7feb522a423ec4639f0da7a395b93e60ee684987990');
INSERT INTO "events" VALUES(101,1796640718679,'deployment.commits','deployment/21','{"commits":3,"deployment":21}','tandem',NULL,NULL,'ok','05f02b054e6803c8021ca7feb522a423ec4639f0da7a395b93e60ee684987990','5d0261cbc102c9bfb3ad7d6da99028fa4d1ca4d6456aecdb83d692637e9687f0');
INSERT INTO "events" VALUES(102,1796640718681,'deployment.commits','deployment/20','{"commits":3,"deployment":20}','tandem',NULL,NULL,'ok','5d0261cbc102c9bfb3ad7d6da99028fa4d1ca4d6456aecdb83d692637e9687f0','87dc0aeffe28ce957a3271d56db539e0f01dd8ffba6b61dddd4bf5df3375ef40');
INSERT INTO "events" VALUES(103,1796640719204,'deployment.live','deployment/23','{"market":"cz","release":1,"url":"http://127.0.0.1:32741"}','tandem',NULL,NULL,'ok','87dc0aeffe28ce957a3271d56db539e0f01dd8ffba6b61dddd4bf5df3375ef40','74d026925f496951ec8d140649099df53e4ed577dccf5aac6bc3f26412863d37');
INSERT INTO "events" VALUES(104,1796640719210,'deployment.live','deployment/25','{"market":"lv","release":1,"url":"http://127.0.0.1:32742"}','tandem',NULL,NULL,'ok','74d026925f496951ec8d140649099df53e4ed577dccf5aac6bc3f26412863d37','c3e117575534a5927cccab6dbde3fe1938dae56253364b25f2ac79c08defbea8');
INSERT INTO "events" VALUES(105,1796640719214,'deployment.live','deployment/24','{"market":"sk","release":1,"url":"http://127.0.0.1:32740"}','tandem',NULL,NULL,'ok','c3e117575534a5927cccab6dbde3fe1938dae56253364b25f2ac79c08defbea8','a7d11f43e3820624363853c9114504cb9f69833814875a5ced0b25f622cd3fd5');
INSERT INTO "events" VALUES(106,1796640719220,'deployment.live','deployment/22','{"market":"ee","release":1,"url":"http://127.0.0.1:32739"}','tandem',NULL,NULL,'ok','a7d11f43e3820624363853c9114504cb9f69833814875a5ced0b25f622cd3fd5','50a60de27ae56c5525294d53024c72a598a3fbb8747fe6e63363e4c63bef5c91');
INSERT INTO "events" VALUES(107,1796640719223,'deployment.commits','deployment/23','{"commits":3,"deployment":23}','tandem',NULL,NULL,'ok','50a60de27ae56c5525294d53024c72a598a3fbb8747fe6e63363e4c63bef5c91','5efd298e8d745cd3f2db515cf0a40612d5f3056ff4c1f554c02a5a164a029c20');
INSERT INTO "events" VALUES(108,1796640719224,'deployment.commits','deployment/25','{"commits":3,"deployment":25}','tandem',NULL,NULL,'ok','5efd298e8d745cd3f2db515cf0a40612d5f3056ff4c1f554c02a5a164a029c20','b902bfd853b1d3cba3190f986af047e40c884f08484fb12fdbf4b4fb85ff9755');
INSERT INTO "events" VALUES(109,1796640719226,'deployment.commits','deployment/24','{"commits":3,"deployment":24}','tandem',NULL,NULL,'ok','b902bfd853b1d3cba3190f986af047e40c884f08484fb12fdbf4b4fb85ff9755','e6da7bf584ec66be8ba0e494770ad96a627b3d2036cbe74e557da434757d1d84');
INSERT INTO "events" VALUES(110,1796640719228,'rollout.succeeded','rollout/1','{"reason":null,"state":"succeeded","wave":4}','tandem',NULL,NULL,'ok','e6da7bf584ec66be8ba0e494770ad96a627b3d2036cbe74e557da434757d1d84','09ebff7e48e3608410159982f81a36f181ed630f6c9b16e1383dd27a11c094c5');
INSERT INTO "events" VALUES(111,1796640719229,'deployment.commits','deployment/22','{"commits":3,"deployment":22}','tandem',NULL,NULL,'ok','09ebff7e48e3608410159982f81a36f181ed630f6c9b16e1383dd27a11c094c5','03b3457b20daa84ca03757d13d3f3c8251808441ffe2dd847dc09f2ab066f1a9');
INSERT INTO "events" VALUES(112,1796640719233,'notification.sent','notification/team-chat','{"attempts":1,"error":null,"event":"rollout.succeeded","hook":"team-chat"}','tandem',NULL,NULL,'ok','03b3457b20daa84ca03757d13d3f3c8251808441ffe2dd847dc09f2ab066f1a9','5556bc668edcb0ba5820b1fc7aa3ef5ea4a418506617ac887c65e8d68679d99c');
INSERT INTO "events" VALUES(113,1796640719328,'idea.created','T-4','{"title":"Show a delivery estimate per country"}','admin','token/1','127.0.0.1','ok','5556bc668edcb0ba5820b1fc7aa3ef5ea4a418506617ac887c65e8d68679d99c','903651688e6819077ffb958395cee557c73582b0acee062e1d6680e42fab1c4a');
INSERT INTO "events" VALUES(114,1796640719462,'commit.recorded','shop','{"ideas":["T-4"],"sha":"8cd9e46aecaf67a158b88362be89b3b04b63d483"}','admin','token/1','127.0.0.1','ok','903651688e6819077ffb958395cee557c73582b0acee062e1d6680e42fab1c4a','7d62bf338bbeacb85db83fbc863309640414e001cbba42b9b3a33cc67ef12aeb');
INSERT INTO "events" VALUES(115,1796640719473,'run.queued','run/2','{"branch":"main","commit":"8cd9e46aecaf67a158b88362be89b3b04b63d483","service":"shop","trigger":"api"}','admin','token/1','127.0.0.1','ok','7d62bf338bbeacb85db83fbc863309640414e001cbba42b9b3a33cc67ef12aeb','246d7b36486ec76613a49767e5d621a7c8d0d405c28989d401d52c001f24864f');
INSERT INTO "events" VALUES(116,1796640719496,'run.started','run/2','{"jobs":2}','tandem',NULL,NULL,'ok','246d7b36486ec76613a49767e5d621a7c8d0d405c28989d401d52c001f24864f','6fb7fc6dfa263944b624476a5e3ec319cbeebbb9477118c60e9adb46f5762e56');
INSERT INTO "events" VALUES(117,1796640719506,'job.offered','job/3','{"runs_on":[]}','tandem',NULL,NULL,'ok','6fb7fc6dfa263944b624476a5e3ec319cbeebbb9477118c60e9adb46f5762e56','16c9a82b12ff941c7caabf98ef1241e24faeb50b362dc4cf0eb4c91349cc210f');
INSERT INTO "events" VALUES(118,1796640719512,'job.running','job/3','{"agent":"local-vm-1ed5c5a5e776ad46"}','agent local-vm-1ed5c5a5e776ad46','agent/local-vm-1ed5c5a5e776ad46','127.0.0.1','ok','16c9a82b12ff941c7caabf98ef1241e24faeb50b362dc4cf0eb4c91349cc210f','05e16ae360553ace226d5de0b6f70de9fafb30e19f833a25ba07aeabf05c15a2');
INSERT INTO "events" VALUES(119,1796640725096,'log.stored','ebb99467d63b42783d3dab294cde3e5017e3f7f447f596101960f10cc7ed6a2d','{"chunks":1,"size":299}','agent local-vm-1ed5c5a5e776ad46','job/3','127.0.0.1','ok','05e16ae360553ace226d5de0b6f70de9fafb30e19f833a25ba07aeabf05c15a2','de0b65ab7dfa70b797f69d705f8fabbc23adb9ec4f82313e819d25e85ee44da8');
INSERT INTO "events" VALUES(120,1796640725105,'job.success','job/3','{"exit_code":0,"log_bytes":299}','agent local-vm-1ed5c5a5e776ad46','job/3','127.0.0.1','ok','de0b65ab7dfa70b797f69d705f8fabbc23adb9ec4f82313e819d25e85ee44da8','336ba41edf0a6ef64ba48fd7316fca55f20e184a17dfda6aa1a9ba4004f11bd4');
INSERT INTO "events" VALUES(121,1796640725111,'job.offered','job/4','{"runs_on":[]}','tandem',NULL,NULL,'ok','336ba41edf0a6ef64ba48fd7316fca55f20e184a17dfda6aa1a9ba4004f11bd4','be13fcd1acd6ad25f55ecba8695a0cfa7ab4a4fb4374bc6821b9f2fd9e9c8258');
INSERT INTO "events" VALUES(122,1796640725116,'job.running','job/4','{"agent":"local-vm-1ed5c5a5e776ad46"}','agent local-vm-1ed5c5a5e776ad46','agent/local-vm-1ed5c5a5e776ad46','127.0.0.1','ok','be13fcd1acd6ad25f55ecba8695a0cfa7ab4a4fb4374bc6821b9f2fd9e9c8258','ce91fee722bcedaa0c7a29de60749f7b21870b1ff50814f750488d0943d5694f');
INSERT INTO "events" VALUES(123,1796640731939,'artifact.stored','run/2','{"digest":"62a318e66ed2e3fb09e5150ec85e801ce5f6357b6783b1797f72ad600b701a3f","name":"shop","size":696624}','agent local-vm-1ed5c5a5e776ad46','job/4','127.0.0.1','ok','ce91fee722bcedaa0c7a29de60749f7b21870b1ff50814f750488d0943d5694f','0d03b7b90b77bf9467f6d5971fd29a41fd4c895981bbec525ee1c6a6ac9b7ec5');
INSERT INTO "events" VALUES(124,1796640732027,'log.stored','ad83933b1f606634a4ff217411010c84f8e917987546f4352ae4f289b6efed0c','{"chunks":1,"size":243}','agent local-vm-1ed5c5a5e776ad46','job/4','127.0.0.1','ok','0d03b7b90b77bf9467f6d5971fd29a41fd4c895981bbec525ee1c6a6ac9b7ec5','70e00010885fdb7b4218cf9f1400ba9d2cd71e0bf57d4880b7642b8d05fa600d');
INSERT INTO "events" VALUES(125,1796640732027,'job.success','job/4','{"exit_code":0,"log_bytes":243}','agent local-vm-1ed5c5a5e776ad46','job/4','127.0.0.1','ok','70e00010885fdb7b4218cf9f1400ba9d2cd71e0bf57d4880b7642b8d05fa600d','89d1404c18216412ccdcfaeb047324561b6f8b1438151198c362ce6afb74a743');
INSERT INTO "events" VALUES(126,1796640732037,'release.created','release/2','{"commit":"8cd9e46aecaf67a158b88362be89b3b04b63d483","run":2,"service":"shop","version":"v2"}','tandem',NULL,NULL,'ok','89d1404c18216412ccdcfaeb047324561b6f8b1438151198c362ce6afb74a743','e9b31a8617d1a637ce243218fc24cf37a6ab8b3f56f6378dd5cf4c542b94a7fc');
INSERT INTO "events" VALUES(127,1796640732037,'run.success','run/2','{"error":null,"state":"success"}','tandem',NULL,NULL,'ok','e9b31a8617d1a637ce243218fc24cf37a6ab8b3f56f6378dd5cf4c542b94a7fc','801b5f30a8114fa2c97dc6ac0924369add716901cbc0dca49768b193cba9535c');
INSERT INTO "events" VALUES(128,1796640732157,'rollout.created','rollout/2','{"config_version":null,"release":2,"service":"shop","state":"pending","waves":5}','admin','token/1','127.0.0.1','ok','801b5f30a8114fa2c97dc6ac0924369add716901cbc0dca49768b193cba9535c','f92dfd01591ea016100193b959f8b5000d1f15621e83ca8c88a07adcb70108ec');
INSERT INTO "events" VALUES(129,1796640732212,'rollout.running','rollout/2','{"by":"engine","from":"pending","wave":0}','tandem',NULL,NULL,'ok','f92dfd01591ea016100193b959f8b5000d1f15621e83ca8c88a07adcb70108ec','72e41ee9a0626694a9b630cba3ec3bd8eee896f6b1e81814ed58b6bc2abd5b18');
INSERT INTO "events" VALUES(130,1796640732219,'deployment.started','deployment/26','{"kind":"release","market":"fr","release":2,"service":"shop"}','tandem',NULL,NULL,'ok','72e41ee9a0626694a9b630cba3ec3bd8eee896f6b1e81814ed58b6bc2abd5b18','6f85ddbbc60fbdc9f33bfced454d3d7dcf90cf4f7b1d0efb4ae9c0584a48047d');
INSERT INTO "events" VALUES(131,1796640732840,'deployment.failed','deployment/26','{"interrupted":false,"reason":"canary at 25%: metric gate failed: errors: error ratio 41.5% (22 of 53 requests) is over the bound 1.0%"}','tandem',NULL,NULL,'ok','6f85ddbbc60fbdc9f33bfced454d3d7dcf90cf4f7b1d0efb4ae9c0584a48047d','1feeab90da1461f8b78dfd15575eba146134d51eaa2fa6aed027609f14711fbd');
INSERT INTO "events" VALUES(132,1796640732846,'incident.opened','incident/1','{"deployment":26,"market":"fr","service":"shop","title":"shop v2 failed its gate in fr: canary at 25%: metric gate failed: errors: error ratio 41.5% (22 of 53 requests) is over the bound 1.0%"}','tandem',NULL,NULL,'ok','1feeab90da1461f8b78dfd15575eba146134d51eaa2fa6aed027609f14711fbd','e5431d16be820757a76263c5bed706e6bca92f370af92f6cf6eebcb718810714');
INSERT INTO "events" VALUES(133,1796640732885,'notification.sent','notification/team-chat','{"attempts":1,"error":null,"event":"incident.opened","hook":"team-chat"}','tandem',NULL,NULL,'ok','e5431d16be820757a76263c5bed706e6bca92f370af92f6cf6eebcb718810714','ba2b99ddf07d1838d27315427067fdb4bd20e9f35de51ed8948fee97668d7e48');
INSERT INTO "events" VALUES(134,1796640732897,'incident.resolved','incident/1','{"after_ms":37,"by":"tandem (the previous release answers its probe)"}','tandem',NULL,NULL,'ok','ba2b99ddf07d1838d27315427067fdb4bd20e9f35de51ed8948fee97668d7e48','6eb313d948f263cda93fbee1ab6bf98614cff2b8c8b413a4679aa47999fc8d2e');
INSERT INTO "events" VALUES(135,1796640732906,'rollout.halted','rollout/2','{"reason":"wave `pilot` failed its gate in fr: canary at 25%: metric gate failed: errors: error ratio 41.5% (22 of 53 requests) is over the bound 1.0%","state":"halted","wave":0}','tandem',NULL,NULL,'ok','6eb313d948f263cda93fbee1ab6bf98614cff2b8c8b413a4679aa47999fc8d2e','338e8ebbe3bf6d1ee54387105132d8d1ea0d77ad151a4da688a00dfd3b7f0216');
INSERT INTO "events" VALUES(136,1796640732933,'notification.sent','notification/team-chat','{"attempts":1,"error":null,"event":"rollout.halted","hook":"team-chat"}','tandem',NULL,NULL,'ok','338e8ebbe3bf6d1ee54387105132d8d1ea0d77ad151a4da688a00dfd3b7f0216','0157b5b8a0e9d068586190c9a49b315d9d726da3b2be829cd13e0a1de3bd285b');
INSERT INTO "events" VALUES(137,1796640732941,'notification.sent','notification/team-chat','{"attempts":1,"error":null,"event":"incident.resolved","hook":"team-chat"}','tandem',NULL,NULL,'ok','0157b5b8a0e9d068586190c9a49b315d9d726da3b2be829cd13e0a1de3bd285b','7528dab336a373bc4ee28206b9f09d6b0ce8407c105895caadc7e695be8b9cea');
INSERT INTO "events" VALUES(138,1796640733109,'change.opened','change/1','{"author":"dana (dev)","kind":"flags","service":"shop","title":"new checkout for 20 % of France; Black Friday banner in Benelux and France"}','dana (dev)','token/3','127.0.0.1','ok','7528dab336a373bc4ee28206b9f09d6b0ce8407c105895caadc7e695be8b9cea','6f6f3af1f23dda57e548e5fcb6e291ca1fe49e4d067f860c37dc929ad46b5ab1');
INSERT INTO "events" VALUES(139,1796640733136,'change.approve','change/1','{"by":"olga (ops)","comment":"20 % is fine for the pilot","revision":1,"role":"operator","verdict":"approve"}','olga (ops)','token/2','127.0.0.1','ok','6f6f3af1f23dda57e548e5fcb6e291ca1fe49e4d067f860c37dc929ad46b5ab1','714310482743793d378686f394a9b3acce72a18b195e45ab453227387a00b496');
INSERT INTO "events" VALUES(140,1796640733145,'change.applying','change/1','{"from":"open","result":null,"rollout":null,"version":null}','olga (ops)','token/2','127.0.0.1','ok','714310482743793d378686f394a9b3acce72a18b195e45ab453227387a00b496','ad30579fa554355b0da137bbc9b651a091b7f9025f6f42d8fe7b0084e8773549');
INSERT INTO "events" VALUES(141,1796640733152,'flags.changed','flags/shop','{"by":"dana (dev)","reason":"change request 1: new checkout for 20 % of France; Black Friday banner in Benelux and France","service":"shop","version":1}','olga (ops)','token/2','127.0.0.1','ok','ad30579fa554355b0da137bbc9b651a091b7f9025f6f42d8fe7b0084e8773549','9cecdb91eceef25c51b9306f5ba955ababc7a43d928e0f0d7c8eec2ec7900be2');
INSERT INTO "events" VALUES(142,1796640733159,'change.done','change/1','{"from":"applying","result":"flags version 1 in force","rollout":null,"version":1}','olga (ops)','token/2','127.0.0.1','ok','9cecdb91eceef25c51b9306f5ba955ababc7a43d928e0f0d7c8eec2ec7900be2','5c5bad6ebc0676025c2354047bd7ec2312c88744bc15f0e28391cda34b105120');
INSERT INTO "events" VALUES(143,1796640740966,'flag.killed','flag/new-checkout','{"by":"olga (ops)","flag":"new-checkout","id":1,"market":"fr","reason":"checkout errors in fr","service":"shop"}','olga (ops)','token/2','127.0.0.1','ok','5c5bad6ebc0676025c2354047bd7ec2312c88744bc15f0e28391cda34b105120','068d39c2369d7d930683abf878275a9df9ef4b66088596d562725b246ac2b18e');
INSERT INTO "events" VALUES(144,1796640740993,'flag.kill-approved','flag/new-checkout','{"by":"dana (dev)","comment":"right call","flag":"new-checkout","id":1,"market":"fr"}','dana (dev)','token/3','127.0.0.1','ok','068d39c2369d7d930683abf878275a9df9ef4b66088596d562725b246ac2b18e','73bd370d2cacaa83a8117294cb324b28af631a71afb2db9faf0371b790d2118e');
INSERT INTO "events" VALUES(145,1796640741051,'change.opened','change/2','{"author":"dana (dev)","kind":"config","service":"shop","title":"Free shipping from 40 € in the Netherlands"}','dana (dev)','token/3','127.0.0.1','ok','73bd370d2cacaa83a8117294cb324b28af631a71afb2db9faf0371b790d2118e','3a00fe33b1777b1380460447da3ac4ae36443ce40c4935cbd8506d305746e947');
INSERT INTO "events" VALUES(146,1796640741137,'change.approve','change/2','{"by":"olga (ops)","comment":"checked with finance","revision":1,"role":"operator","verdict":"approve"}','olga (ops)','token/2','127.0.0.1','ok','3a00fe33b1777b1380460447da3ac4ae36443ce40c4935cbd8506d305746e947','bb19749f879aa9b6d2628c413eeef22580e9aeda329fc141160ade69420d5a91');
INSERT INTO "events" VALUES(147,1796640741159,'change.applying','change/2','{"from":"open","result":null,"rollout":null,"version":null}','olga (ops)','token/2','127.0.0.1','ok','bb19749f879aa9b6d2628c413eeef22580e9aeda329fc141160ade69420d5a91','dc55843e0b2320cccfbad84437c86e1e69ceff9ef14a967cf9bbab396f76a837');
INSERT INTO "events" VALUES(148,1796640741170,'config.version','config/shop','{"by":"dana (dev)","change":2,"service":"shop","version":2}','olga (ops)','token/2','127.0.0.1','ok','dc55843e0b2320cccfbad84437c86e1e69ceff9ef14a967cf9bbab396f76a837','1e68a1ecd0341a685a9594bd24583e27ae6402256b2e29137f96e34b53981e27');
INSERT INTO "events" VALUES(149,1796640741181,'rollout.created','rollout/3','{"config_version":2,"release":1,"service":"shop","state":"pending","waves":5}','olga (ops)','token/2','127.0.0.1','ok','1e68a1ecd0341a685a9594bd24583e27ae6402256b2e29137f96e34b53981e27','b2757fa96569d9ba54f3da1c4b76cc31f8a663268260d7d1bb15639ccb4a8ba2');
INSERT INTO "events" VALUES(150,1796640741182,'change.applied','change/2','{"from":"applying","result":"config v2 rolling out (rollout 3)","rollout":3,"version":2}','olga (ops)','token/2','127.0.0.1','ok','b2757fa96569d9ba54f3da1c4b76cc31f8a663268260d7d1bb15639ccb4a8ba2','fa6dfc6b8b8baf330eb9f4fbb76995026099d7bb2a726940c07a5fc113276194');
INSERT INTO "events" VALUES(151,1796640741211,'rollout.running','rollout/3','{"by":"engine","from":"pending","wave":0}','tandem',NULL,NULL,'ok','fa6dfc6b8b8baf330eb9f4fbb76995026099d7bb2a726940c07a5fc113276194','9bd390201476397a86745a8d0f006cfcca0aa6858e0945a986ad82fba61d6b1c');
INSERT INTO "events" VALUES(152,1796640741229,'config.market','config/shop/fr','{"by":"tandem","deployment":null,"market":"fr","service":"shop","version":2}','tandem',NULL,NULL,'ok','9bd390201476397a86745a8d0f006cfcca0aa6858e0945a986ad82fba61d6b1c','17f7337b90be7462de2f80961c9e9fe31bcd4a91dc6d7d94f4a71c2ef0d4cfa9');
INSERT INTO "events" VALUES(153,1796640741239,'rollout.awaiting-approval','rollout/3','{"by":"engine","from":"running","wave":1}','tandem',NULL,NULL,'ok','17f7337b90be7462de2f80961c9e9fe31bcd4a91dc6d7d94f4a71c2ef0d4cfa9','2dcf1266d740f7b2a93b3b18f759041f5e4802a1d0afbd6d669ace775b8fd5ca');
INSERT INTO "events" VALUES(154,1796640741244,'notification.sent','notification/team-chat','{"attempts":1,"error":null,"event":"approval.requested","hook":"team-chat"}','tandem',NULL,NULL,'ok','2dcf1266d740f7b2a93b3b18f759041f5e4802a1d0afbd6d669ace775b8fd5ca','fe3501c0e314c488f124e58c9c112dcdab0130ccbdb1527fed8fb3092c9b9881');
INSERT INTO "events" VALUES(155,1796640741442,'rollout.approve','rollout/3','{"by":"olga (ops)","kind":"approve","market":null,"reason":null,"wave":1}','olga (ops)','token/2','127.0.0.1','ok','fe3501c0e314c488f124e58c9c112dcdab0130ccbdb1527fed8fb3092c9b9881','3b5c50327415337bc408960c7c91e7ee525681c9fb18d809395219a5d88d1b35');
INSERT INTO "events" VALUES(156,1796640741443,'rollout.running','rollout/3','{"by":"olga (ops)","from":"awaiting-approval","wave":1}','olga (ops)','token/2','127.0.0.1','ok','3b5c50327415337bc408960c7c91e7ee525681c9fb18d809395219a5d88d1b35','2d0f4ab03fdeb1bacf998bb349d040b2cc429d7368610fa17429e5f21db16c66');
INSERT INTO "events" VALUES(157,1796640741473,'config.market','config/shop/lu','{"by":"tandem","deployment":null,"market":"lu","service":"shop","version":2}','tandem',NULL,NULL,'ok','2d0f4ab03fdeb1bacf998bb349d040b2cc429d7368610fa17429e5f21db16c66','066e12095447fbabc640c8fa2285da7a3d0265636444824265377f8026f3b5ce');
INSERT INTO "events" VALUES(158,1796640741478,'config.market','config/shop/be','{"by":"tandem","deployment":null,"market":"be","service":"shop","version":2}','tandem',NULL,NULL,'ok','066e12095447fbabc640c8fa2285da7a3d0265636444824265377f8026f3b5ce','9517def9af530aab3f9c5c7aebb695cbf14ade4301be39e0c54736202d917716');
INSERT INTO "events" VALUES(159,1796640741531,'deployment.started','deployment/27','{"kind":"config","market":"nl","release":1,"service":"shop"}','tandem',NULL,NULL,'ok','9517def9af530aab3f9c5c7aebb695cbf14ade4301be39e0c54736202d917716','fa9acdc78e94b381d2b3b390ede29afaef856c3b4658bda53ab368e4f1a4fdb6');
INSERT INTO "events" VALUES(160,1796640742596,'config.market','config/shop/nl','{"by":"tandem","deployment":27,"market":"nl","service":"shop","version":2}','tandem',NULL,NULL,'ok','fa9acdc78e94b381d2b3b390ede29afaef856c3b4658bda53ab368e4f1a4fdb6','239347055a033bdc7f395a30c3a4bd9373c0947a2b0099b46b45e176b4b940c7');
INSERT INTO "events" VALUES(161,1796640742597,'deployment.live','deployment/27','{"market":"nl","release":1,"url":"http://127.0.0.1:32744"}','tandem',NULL,NULL,'ok','239347055a033bdc7f395a30c3a4bd9373c0947a2b0099b46b45e176b4b940c7','b7bf42189ad5632bc1c0e824f65d945e9222df1ca703c31c8a2afbbee94ff96d');
INSERT INTO "events" VALUES(162,1796640742612,'rollout.running','rollout/3','{"by":"engine","from":"running","wave":2}','tandem',NULL,NULL,'ok','b7bf42189ad5632bc1c0e824f65d945e9222df1ca703c31c8a2afbbee94ff96d','85e89e1d07522557de8f37fdb338cf16886ce1dca9325f55842c0f7966fba04d');
INSERT INTO "events" VALUES(163,1796640742643,'config.market','config/shop/at','{"by":"tandem","deployment":null,"market":"at","service":"shop","version":2}','tandem',NULL,NULL,'ok','85e89e1d07522557de8f37fdb338cf16886ce1dca9325f55842c0f7966fba04d','76e65ca244f46792cb5a2b7853db9a3641718c2a37cfdaf942e0fd06d064fcda');
INSERT INTO "events" VALUES(164,1796640742647,'config.market','config/shop/ch','{"by":"tandem","deployment":null,"market":"ch","service":"shop","version":2}','tandem',NULL,NULL,'ok','76e65ca244f46792cb5a2b7853db9a3641718c2a37cfdaf942e0fd06d064fcda','3a6d178f0ac604bf10c3fd84ddc1b3c25b6258a35ea1de094673ae2b91fc408b');
INSERT INTO "events" VALUES(165,1796640742650,'config.market','config/shop/de','{"by":"tandem","deployment":null,"market":"de","service":"shop","version":2}','tandem',NULL,NULL,'ok','3a6d178f0ac604bf10c3fd84ddc1b3c25b6258a35ea1de094673ae2b91fc408b','3c3f29fd91d6abda74b25ce5b48fb171e1b98252d51e9e7978cef9d065baec27');
INSERT INTO "events" VALUES(166,1796640742661,'rollout.running','rollout/3','{"by":"engine","from":"running","wave":3}','tandem',NULL,NULL,'ok','3c3f29fd91d6abda74b25ce5b48fb171e1b98252d51e9e7978cef9d065baec27','8e98748b696787e871249714dd8fc7dbb430b8e2f089430ab33908366b7e851a');
INSERT INTO "events" VALUES(167,1796640742709,'config.market','config/shop/it','{"by":"tandem","deployment":null,"market":"it","service":"shop","version":2}','tandem',NULL,NULL,'ok','8e98748b696787e871249714dd8fc7dbb430b8e2f089430ab33908366b7e851a','c5763d8ae0f462b985685170b46412660d4ca239cd0569c42ffac65012ca6c96');
INSERT INTO "events" VALUES(168,1796640742714,'config.market','config/shop/es','{"by":"tandem","deployment":null,"market":"es","service":"shop","version":2}','tandem',NULL,NULL,'ok','c5763d8ae0f462b985685170b46412660d4ca239cd0569c42ffac65012ca6c96','9568453e1cc7e51da34908292c6e094f6af0b8769a8aac34eb230524d4e6ad3b');
INSERT INTO "events" VALUES(169,1796640742716,'config.market','config/shop/cy','{"by":"tandem","deployment":null,"market":"cy","service":"shop","version":2}','tandem',NULL,NULL,'ok','9568453e1cc7e51da34908292c6e094f6af0b8769a8aac34eb230524d4e6ad3b','a2a320d7465f31c9a208edc06094da77f9df94fd6b7598d9277262273223a3ee');
INSERT INTO "events" VALUES(170,1796640742725,'config.market','config/shop/gr','{"by":"tandem","deployment":null,"market":"gr","service":"shop","version":2}','tandem',NULL,NULL,'ok','a2a320d7465f31c9a208edc06094da77f9df94fd6b7598d9277262273223a3ee','aeda660343b74cf4feb8c22b978fc0277b72c92318d201024aa41811194983db');
INSERT INTO "events" VALUES(171,1796640742729,'config.market','config/shop/mt','{"by":"tandem","deployment":null,"market":"mt","service":"shop","version":2}','tandem',NULL,NULL,'ok','aeda660343b74cf4feb8c22b978fc0277b72c92318d201024aa41811194983db','29d976b03a79c9e62cf51fbf33b03e16136ccdc356c47aac042dc1b20678b9bc');
INSERT INTO "events" VALUES(172,1796640742734,'config.market','config/shop/pt','{"by":"tandem","deployment":null,"market":"pt","service":"shop","version":2}','tandem',NULL,NULL,'ok','29d976b03a79c9e62cf51fbf33b03e16136ccdc356c47aac042dc1b20678b9bc','7f9ca4e0c470f196761e155a935768949ac06403f08ece7980727e3cfbe5040f');
INSERT INTO "events" VALUES(173,1796640742742,'rollout.running','rollout/3','{"by":"engine","from":"running","wave":4}','tandem',NULL,NULL,'ok','7f9ca4e0c470f196761e155a935768949ac06403f08ece7980727e3cfbe5040f','c3d4b47b948e5eddd308761f88ef2b46d49beb29327e59ef2144cf1dd90ea74d');
INSERT INTO "events" VALUES(174,1796640742806,'config.market','config/shop/se','{"by":"tandem","deployment":null,"market":"se","service":"shop","version":2}','tandem',NULL,NULL,'ok','c3d4b47b948e5eddd308761f88ef2b46d49beb29327e59ef2144cf1dd90ea74d','5488988a7ec6d512ba58675370640a30b86a180e43f554be072b2ae78a686a01');
INSERT INTO "events" VALUES(175,1796640742812,'config.market','config/shop/dk','{"by":"tandem","deployment":null,"market":"dk","service":"shop","version":2}','tandem',NULL,NULL,'ok','5488988a7ec6d512ba58675370640a30b86a180e43f554be072b2ae78a686a01','25667a1a4f4fe2ba0be0f523a51adb587b680bac178e9197afcba214a37f48af');
INSERT INTO "events" VALUES(176,1796640742818,'config.market','config/shop/fi','{"by":"tandem","deployment":null,"market":"fi","service":"shop","version":2}','tandem',NULL,NULL,'ok','25667a1a4f4fe2ba0be0f523a51adb587b680bac178e9197afcba214a37f48af','00edfc9fa2d039d9fc6ff1a576aa235b8a58bcca2ba6b111b3b5551d8f503c70');
INSERT INTO "events" VALUES(177,1796640742825,'config.market','config/shop/hu','{"by":"tandem","deployment":null,"market":"hu","service":"shop","version":2}','tandem',NULL,NULL,'ok','00edfc9fa2d039d9fc6ff1a576aa235b8a58bcca2ba6b111b3b5551d8f503c70','c300f9b8a23c9d04fe59460d5f2db351afd2882d20b94292bb422a4bd294ce38');
INSERT INTO "events" VALUES(178,1796640742837,'config.market','config/shop/ee','{"by":"tandem","deployment":null,"market":"ee","service":"shop","version":2}','tandem',NULL,NULL,'ok','c300f9b8a23c9d04fe59460d5f2db351afd2882d20b94292bb422a4bd294ce38','7a264e011dba64d0fff338a8b0919768c6c2002df7216740f69da7370146da29');
INSERT INTO "events" VALUES(179,1796640742843,'config.market','config/shop/ie','{"by":"tandem","deployment":null,"market":"ie","service":"shop","version":2}','tandem',NULL,NULL,'ok','7a264e011dba64d0fff338a8b0919768c6c2002df7216740f69da7370146da29','4a057f0ce6f225f9d2bbd68a323cd99672c678181ab96d256abddca8517b0fd6');
INSERT INTO "events" VALUES(180,1796640742849,'config.market','config/shop/gb','{"by":"tandem","deployment":null,"market":"gb","service":"shop","version":2}','tandem',NULL,NULL,'ok','4a057f0ce6f225f9d2bbd68a323cd99672c678181ab96d256abddca8517b0fd6','29ad792c25f1fe77af08dd5b35ffa77e7d8c7242e1bb9d038ae7f735f0f78585');
INSERT INTO "events" VALUES(181,1796640742853,'config.market','config/shop/lv','{"by":"tandem","deployment":null,"market":"lv","service":"shop","version":2}','tandem',NULL,NULL,'ok','29ad792c25f1fe77af08dd5b35ffa77e7d8c7242e1bb9d038ae7f735f0f78585','e048004c16f4270d90f49b89d62689d25ae69ef1622f844c1fa611496a4a04d9');
INSERT INTO "events" VALUES(182,1796640742859,'config.market','config/shop/lt','{"by":"tandem","deployment":null,"market":"lt","service":"shop","version":2}','tandem',NULL,NULL,'ok','e048004c16f4270d90f49b89d62689d25ae69ef1622f844c1fa611496a4a04d9','e166696822e7e5b79355bb299a00b75e9067ff4a1f3332cfbe1f1ca1d2687fe4');
INSERT INTO "events" VALUES(183,1796640742869,'config.market','config/shop/pl','{"by":"tandem","deployment":null,"market":"pl","service":"shop","version":2}','tandem',NULL,NULL,'ok','e166696822e7e5b79355bb299a00b75e9067ff4a1f3332cfbe1f1ca1d2687fe4','bd58d915cca23879a2f29cb585025d638e50c0c56e076c232c44d8907a9fa5c3');
INSERT INTO "events" VALUES(184,1796640742871,'config.market','config/shop/sk','{"by":"tandem","deployment":null,"market":"sk","service":"shop","version":2}','tandem',NULL,NULL,'ok','bd58d915cca23879a2f29cb585025d638e50c0c56e076c232c44d8907a9fa5c3','a95e14e745c9412fb781e873c25c81cf75e5325397a3e07d6cdc442ca563500d');
INSERT INTO "events" VALUES(185,1796640742877,'config.market','config/shop/cz','{"by":"tandem","deployment":null,"market":"cz","service":"shop","version":2}','tandem',NULL,NULL,'ok','a95e14e745c9412fb781e873c25c81cf75e5325397a3e07d6cdc442ca563500d','dd6b74d3d282695b1b66b8669ea3fe9c8ad173deb5488b38d2d1423217333af1');
INSERT INTO "events" VALUES(186,1796640742884,'rollout.succeeded','rollout/3','{"reason":null,"state":"succeeded","wave":4}','tandem',NULL,NULL,'ok','dd6b74d3d282695b1b66b8669ea3fe9c8ad173deb5488b38d2d1423217333af1','b0f00cfaa5e6f0db2bfa1c31ee157e69762604974cfcc931cec137d7bff0f128');
INSERT INTO "events" VALUES(187,1796640742888,'change.done','change/2','{"from":"applied","result":"config v2 reached every market (rollout 3)","rollout":null,"version":null}','tandem',NULL,NULL,'ok','b0f00cfaa5e6f0db2bfa1c31ee157e69762604974cfcc931cec137d7bff0f128','f1507df5d3740b4a89d1b934cd62297106413c7386685fefba4fb7f9dbcc37ba');
INSERT INTO "events" VALUES(188,1796640742899,'notification.sent','notification/team-chat','{"attempts":1,"error":null,"event":"rollout.succeeded","hook":"team-chat"}','tandem',NULL,NULL,'ok','f1507df5d3740b4a89d1b934cd62297106413c7386685fefba4fb7f9dbcc37ba','7f0d5c4c5bc56206a2010a3168670d65f1abf1b9f23a789d229a0c0afd65512a');
INSERT INTO "events" VALUES(189,1796640746993,'incident.opened','incident/2','{"by":"tandem (monitor)","deployment":20,"market":"pl","service":"shop","source":"probe","title":"pl stopped answering its probe /healthz (3 failures in a row)"}','tandem',NULL,NULL,'ok','7f0d5c4c5bc56206a2010a3168670d65f1abf1b9f23a789d229a0c0afd65512a','567546f2d8b12bab8979cd51f109e69c687f7701e345e4151335030155ff4813');
INSERT INTO "events" VALUES(190,1796640747007,'market.down','market/shop/pl','{"deployment":20,"error":"http://127.0.0.1:32737/healthz did not answer within 500 ms","failures":3,"incident":2,"market":"pl","service":"shop"}','tandem',NULL,NULL,'ok','567546f2d8b12bab8979cd51f109e69c687f7701e345e4151335030155ff4813','73bd9a555d9740f9f57747613c3cb22b47de808989b647988bd413a21664fc7d');
INSERT INTO "events" VALUES(191,1796640747013,'notification.sent','notification/team-chat','{"attempts":1,"error":null,"event":"incident.opened","hook":"team-chat"}','tandem',NULL,NULL,'ok','73bd9a555d9740f9f57747613c3cb22b47de808989b647988bd413a21664fc7d','40334503cd7ba2881c0d775244cda399b3788f808dc0d83a39fbffe31eff79b8');
INSERT INTO "events" VALUES(192,1796640747778,'incident.resolved','incident/2','{"after_ms":3400,"by":"tandem (the market answers its probe again)"}','tandem',NULL,NULL,'ok','40334503cd7ba2881c0d775244cda399b3788f808dc0d83a39fbffe31eff79b8','0ff7208e17519d1225e7de6312a745d61c87bf67c54713f3e089c823e8bbcdcd');
INSERT INTO "events" VALUES(193,1796640747785,'market.up','market/shop/pl','{"deployment":20,"error":null,"failures":0,"incident":null,"market":"pl","service":"shop"}','tandem',NULL,NULL,'ok','0ff7208e17519d1225e7de6312a745d61c87bf67c54713f3e089c823e8bbcdcd','d0595a18cab854747a33c3db3fd4807b1ffa6d521df498494e4244a9ff2fbb0f');
INSERT INTO "events" VALUES(194,1796640747787,'notification.sent','notification/team-chat','{"attempts":1,"error":null,"event":"incident.resolved","hook":"team-chat"}','tandem',NULL,NULL,'ok','d0595a18cab854747a33c3db3fd4807b1ffa6d521df498494e4244a9ff2fbb0f','8605f36e6eab118cc13580910afaf07655aa70392ef08439686346da421ce96e');
INSERT INTO "events" VALUES(195,1796640747842,'market.launched','market/hu','{"by":"olga (ops)","checklist":[{"check":"config","passed":true,"reason":"hu''s config fits the schema of v1","service":"shop"},{"check":"flags","passed":true,"reason":"3 flag(s) of shop (version 1) resolve in hu, 0 with targeting of its own","service":"shop"},{"check":"release","passed":true,"reason":"v1 (the release in production) is live in hu","service":"shop"},{"check":"probe","passed":true,"reason":"GET http://127.0.0.1:32736/healthz answered 200","service":"shop"}],"market":"hu"}','olga (ops)','token/2','127.0.0.1','ok','8605f36e6eab118cc13580910afaf07655aa70392ef08439686346da421ce96e','ace4af12da8903a026a0c7c292d744bcf563b859e5a963a329be172c87ac0e9f');
INSERT INTO "events" VALUES(196,1796640747847,'notification.sent','notification/team-chat','{"attempts":1,"error":null,"event":"market.launched","hook":"team-chat"}','tandem',NULL,NULL,'ok','ace4af12da8903a026a0c7c292d744bcf563b859e5a963a329be172c87ac0e9f','bb24843a0547274ccb00ba8e8f7212aa1e09f1da80c99912f34045ea3e1b3574');
CREATE TABLE flag_emergencies (
    id              INTEGER PRIMARY KEY,
    service         TEXT NOT NULL,
    flag            TEXT NOT NULL,
    market          TEXT,
    reason          TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    created_role    TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    verdict         TEXT,
    reviewed_by     TEXT,
    reviewed_role   TEXT,
    review_comment  TEXT,
    reviewed_at     BIGINT,
    lift_change     BIGINT,
    lifted_at       BIGINT
);
INSERT INTO "flag_emergencies" VALUES(1,'shop','new-checkout','fr','checkout errors in fr','olga (ops)','operator',1796640740965,'approve','dana (dev)','developer','right call',1796640740992,NULL,NULL);
CREATE TABLE flag_versions (
    id          INTEGER PRIMARY KEY,
    service     TEXT NOT NULL,
    version     BIGINT NOT NULL,
    text        TEXT NOT NULL,
    etag        TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    reason      TEXT,
    created_at  BIGINT NOT NULL,
    UNIQUE (service, version)
);
INSERT INTO "flag_versions" VALUES(1,'shop',1,'# The demo''s feature flags for the shop, evaluated over OFREP (docs/flags.md).
flags:
  new-checkout:
    description: One-page checkout, tried on a fifth of the pilot market first
    type: boolean
    variants: { on: true, off: false }
    default: off
    kill-switch: true            # ops may kill it at once; dev reviews afterwards
    markets:
      fr:
        rollout: { on: 20, off: 80 }
  banner-text:
    description: The home page banner
    type: string
    variants: { plain: "Welcome", sale: "Black Friday: -20%" }
    default: plain
    rules:
      - if: ''market in ["fr", "be", "nl", "lu"]''
        variant: sale
  delivery-estimate:
    description: Kill switch of T-4''s delivery estimate, off until it is fixed
    type: boolean
    variants: { on: true, off: false }
    default: off
    enabled: false
','"ce6b9d234165ad01d2373524480d5840"','dana (dev)','change request 1: new checkout for 20 % of France; Black Friday banner in Benelux and France',1796640733151);
CREATE TABLE gate_results (
    id            INTEGER PRIMARY KEY,
    deployment_id BIGINT NOT NULL REFERENCES deployments (id),
    gate          TEXT NOT NULL,
    value         DOUBLE PRECISION,
    bound         DOUBLE PRECISION,
    previous      DOUBLE PRECISION,
    reason        TEXT NOT NULL,
    recorded_at   BIGINT NOT NULL
, passed INTEGER NOT NULL DEFAULT 0);
INSERT INTO "gate_results" VALUES(1,1,'config',NULL,NULL,NULL,'fr''s config matches v1''s schema',1796640715538,1);
INSERT INTO "gate_results" VALUES(2,1,'probe',1.0,1.0,NULL,'/healthz answered 1 time(s) in a row (1 tries, 1 ms; every 100 ms, 2 s timeout, 2 s start period, 1 in a row to pass, 3 to fail)',1796640715543,1);
INSERT INTO "gate_results" VALUES(3,1,'metric:errors',0.0,0.01,NULL,'error ratio 0.0% (0 of 3 requests) is within the bound 1.0%',1796640716045,1);
INSERT INTO "gate_results" VALUES(4,1,'metric:p99-latency',4.94999999999999953925e-03,0.25,NULL,'p99 latency 4.95 ms is within 250 ms',1796640716046,1);
INSERT INTO "gate_results" VALUES(5,2,'config',NULL,NULL,NULL,'be''s config matches v1''s schema',1796640716278,1);
INSERT INTO "gate_results" VALUES(6,3,'config',NULL,NULL,NULL,'lu''s config matches v1''s schema',1796640716279,1);
INSERT INTO "gate_results" VALUES(7,4,'config',NULL,NULL,NULL,'nl''s config matches v1''s schema',1796640716283,1);
INSERT INTO "gate_results" VALUES(8,2,'probe',1.0,1.0,NULL,'/healthz answered 1 time(s) in a row (1 tries, 1 ms; every 100 ms, 2 s timeout, 2 s start period, 1 in a row to pass, 3 to fail)',1796640716289,1);
INSERT INTO "gate_results" VALUES(9,3,'probe',1.0,1.0,NULL,'/healthz answered 1 time(s) in a row (1 tries, 1 ms; every 100 ms, 2 s timeout, 2 s start period, 1 in a row to pass, 3 to fail)',1796640716289,1);
INSERT INTO "gate_results" VALUES(10,4,'probe',1.0,1.0,NULL,'/healthz answered 1 time(s) in a row (1 tries, 0 ms; every 100 ms, 2 s timeout, 2 s start period, 1 in a row to pass, 3 to fail)',1796640716293,1);
INSERT INTO "gate_results" VALUES(11,3,'metric:errors',0.0,0.01,NULL,'error ratio 0.0% (0 of 3 requests) is within the bound 1.0%',1796640716794,1);
INSERT INTO "gate_results" VALUES(12,2,'metric:errors',0.0,0.01,NULL,'error ratio 0.0% (0 of 3 requests) is within the bound 1.0%',1796640716795,1);
INSERT INTO "gate_results" VALUES(13,3,'metric:p99-latency',4.94999999999999953925e-03,0.25,NULL,'p99 latency 4.95 ms is within 250 ms',1796640716795,1);
INSERT INTO "gate_results" VALUES(14,2,'metric:p99-latency',4.94999999999999953925e-03,0.25,NULL,'p99 latency 4.95 ms is within 250 ms',1796640716796,1);
INSERT INTO "gate_results" VALUES(15,4,'metric:errors',0.0,0.01,NULL,'error ratio 0.0% (0 of 3 requests) is within the bound 1.0%',1796640716796,1);
INSERT INTO "gate_results" VALUES(16,4,'metric:p99-latency',4.94999999999999953925e-03,0.25,NULL,'p99 latency 4.95 ms is within 250 ms',1796640716798,1);
INSERT INTO "gate_results" VALUES(17,5,'config',NULL,NULL,NULL,'at''s config matches v1''s schema',1796640716831,1);
INSERT INTO "gate_results" VALUES(18,6,'config',NULL,NULL,NULL,'ch''s config matches v1''s schema',1796640716832,1);
INSERT INTO "gate_results" VALUES(19,7,'config',NULL,NULL,NULL,'de''s config matches v1''s schema',1796640716836,1);
INSERT INTO "gate_results" VALUES(20,5,'probe',1.0,1.0,NULL,'/healthz answered 1 time(s) in a row (1 tries, 1 ms; every 100 ms, 2 s timeout, 2 s start period, 1 in a row to pass, 3 to fail)',1796640716843,1);
INSERT INTO "gate_results" VALUES(21,6,'probe',1.0,1.0,NULL,'/healthz answered 1 time(s) in a row (1 tries, 2 ms; every 100 ms, 2 s timeout, 2 s start period, 1 in a row to pass, 3 to fail)',1796640716849,1);
INSERT INTO "gate_results" VALUES(22,7,'probe',1.0,1.0,NULL,'/healthz answered 1 time(s) in a row (1 tries, 1 ms; every 100 ms, 2 s timeout, 2 s start period, 1 in a row to pass, 3 to fail)',1796640716850,1);
INSERT INTO "gate_results" VALUES(23,5,'metric:errors',0.0,0.01,NULL,'error ratio 0.0% (0 of 3 requests) is within the bound 1.0%',1796640717351,1);
INSERT INTO "gate_results" VALUES(24,5,'metric:p99-latency',4.94999999999999953925e-03,0.25,NULL,'p99 latency 4.95 ms is within 250 ms',1796640717352,1);
INSERT INTO "gate_results" VALUES(25,6,'metric:errors',0.0,0.01,NULL,'error ratio 0.0% (0 of 3 requests) is within the bound 1.0%',1796640717352,1);
INSERT INTO "gate_results" VALUES(26,7,'metric:errors',0.0,0.01,NULL,'error ratio 0.0% (0 of 3 requests) is within the bound 1.0%',1796640717353,1);
INSERT INTO "gate_results" VALUES(27,6,'metric:p99-latency',4.94999999999999953925e-03,0.25,NULL,'p99 latency 4.95 ms is within 250 ms',1796640717360,1);
INSERT INTO "gate_results" VALUES(28,7,'metric:p99-latency',4.94999999999999953925e-03,0.25,NULL,'p99 latency 4.95 ms is within 250 ms',1796640717361,1);
INSERT INTO "gate_results" VALUES(29,8,'config',NULL,NULL,NULL,'it''s config matches v1''s schema',1796640717404,1);
INSERT INTO "gate_results" VALUES(30,9,'config',NULL,NULL,NULL,'mt''s config matches v1''s schema',1796640717405,1);
INSERT INTO "gate_results" VALUES(31,10,'config',NULL,NULL,NULL,'pt''s config matches v1''s schema',1796640717409,1);
INSERT INTO "gate_results" VALUES(32,11,'config',NULL,NULL,NULL,'gr''s config matches v1''s schema',1796640717414,1);
INSERT INTO "gate_results" VALUES(33,12,'config',NULL,NULL,NULL,'cy''s config matches v1''s schema',1796640717415,1);
INSERT INTO "gate_results" VALUES(34,13,'config',NULL,NULL,NULL,'es''s config matches v1''s schema',1796640717419,1);
INSERT INTO "gate_results" VALUES(35,8,'probe',1.0,1.0,NULL,'/healthz answered 1 time(s) in a row (1 tries, 1 ms; every 100 ms, 2 s timeout, 2 s start period, 1 in a row to pass, 3 to fail)',1796640717441,1);
INSERT INTO "gate_results" VALUES(36,9,'probe',1.0,1.0,NULL,'/healthz answered 1 time(s) in a row (1 tries, 1 ms; every 100 ms, 2 s timeout, 2 s start period, 1 in a row to pass, 3 to fail)',1796640717442,1);
INSERT INTO "gate_results" VALUES(37,10,'probe',1.0,1.0,NULL,'/healthz answered 1 time(s) in a row (1 tries, 0 ms; every 100 ms, 2 s timeout, 2 s start period, 1 in a row to pass, 3 to fail)',1796640717443,1);
INSERT INTO "gate_results" VALUES(38,11,'probe',1.0,1.0,NULL,'/healthz answered 1 time(s) in a row (1 tries, 1 ms; every 100 ms, 2 s timeout, 2 s start period, 1 in a row to pass, 3 to fail)',1796640717449,1);
INSERT INTO "gate_results" VALUES(39,12,'probe',1.0,1.0,NULL,'/healthz answered 1 time(s) in a row (1 tries, 1 ms; every 100 ms, 2 s timeout, 2 s start period, 1 in a row to pass, 3 to fail)',1796640717449,1);
INSERT INTO "gate_results" VALUES(40,13,'probe',1.0,1.0,NULL,'/healthz answered 1 time(s) in a row (1 tries, 1 ms; every 100 ms, 2 s timeout, 2 s start period, 1 in a row to pass, 3 to fail)',1796640717453,1);
INSERT INTO "gate_results" VALUES(41,10,'metric:errors',0.0,0.01,NULL,'error ratio 0.0% (0 of 3 requests) is within the bound 1.0%',1796640717953,1);
INSERT INTO "gate_results" VALUES(42,8,'metric:errors',0.0,0.01,NULL,'error ratio 0.0% (0 of 3 requests) is within the bound 1.0%',1796640717953,1);
INSERT INTO "gate_results" VALUES(43,10,'metric:p99-latency',4.94999999999999953925e-03,0.25,NULL,'p99 latency 4.95 ms is within 250 ms',1796640717954,1);
INSERT INTO "gate_results" VALUES(44,9,'metric:errors',0.0,0.01,NULL,'error ratio 0.0% (0 of 3 requests) is within the bound 1.0%',1796640717954,1);
INSERT INTO "gate_results" VALUES(45,8,'metric:p99-latency',4.94999999999999953925e-03,0.25,NULL,'p99 latency 4.95 ms is within 250 ms',1796640717955,1);
INSERT INTO "gate_results" VALUES(46,11,'metric:errors',0.0,0.01,NULL,'error ratio 0.0% (0 of 3 requests) is within the bound 1.0%',1796640717955,1);
INSERT INTO "gate_results" VALUES(47,12,'metric:errors',0.0,0.01,NULL,'error ratio 0.0% (0 of 3 requests) is within the bound 1.0%',1796640717957,1);
INSERT INTO "gate_results" VALUES(48,13,'metric:errors',0.0,0.01,NULL,'error ratio 0.0% (0 of 3 requests) is within the bound 1.0%',1796640717957,1);
INSERT INTO "gate_results" VALUES(49,9,'metric:p99-latency',4.94999999999999953925e-03,0.25,NULL,'p99 latency 4.95 ms is within 250 ms',1796640717957,1);
INSERT INTO "gate_results" VALUES(50,11,'metric:p99-latency',4.94999999999999953925e-03,0.25,NULL,'p99 latency 4.95 ms is within 250 ms',1796640717958,1);
INSERT INTO "gate_results" VALUES(51,12,'metric:p99-latency',4.94999999999999953925e-03,0.25,NULL,'p99 latency 4.95 ms is within 250 ms',1796640717959,1);
INSERT INTO "gate_results" VALUES(52,13,'metric:p99-latency',4.94999999999999953925e-03,0.25,NULL,'p99 latency 4.95 ms is within 250 ms',1796640717959,1);
INSERT INTO "gate_results" VALUES(53,14,'config',NULL,NULL,NULL,'dk''s config matches v1''s schema',1796640718034,1);
INSERT INTO "gate_results" VALUES(54,15,'config',NULL,NULL,NULL,'lt''s config matches v1''s schema',1796640718039,1);
INSERT INTO "gate_results" VALUES(55,16,'config',NULL,NULL,NULL,'ie''s config matches v1''s schema',1796640718041,1);
INSERT INTO "gate_results" VALUES(56,17,'config',NULL,NULL,NULL,'gb''s config matches v1''s schema',1796640718044,1);
INSERT INTO "gate_results" VALUES(57,18,'config',NULL,NULL,NULL,'se''s config matches v1''s schema',1796640718053,1);
INSERT INTO "gate_results" VALUES(58,19,'config',NULL,NULL,NULL,'hu''s config matches v1''s schema',1796640718055,1);
INSERT INTO "gate_results" VALUES(59,20,'config',NULL,NULL,NULL,'pl''s config matches v1''s schema',1796640718061,1);
INSERT INTO "gate_results" VALUES(60,21,'config',NULL,NULL,NULL,'fi''s config matches v1''s schema',1796640718062,1);
INSERT INTO "gate_results" VALUES(61,14,'probe',1.0,1.0,NULL,'/healthz answered 1 time(s) in a row (1 tries, 2 ms; every 100 ms, 2 s timeout, 2 s start period, 1 in a row to pass, 3 to fail)',1796640718076,1);
INSERT INTO "gate_results" VALUES(62,16,'probe',1.0,1.0,NULL,'/healthz answered 1 time(s) in a row (1 tries, 5 ms; every 100 ms, 2 s timeout, 2 s start period, 1 in a row to pass, 3 to fail)',1796640718081,1);
INSERT INTO "gate_results" VALUES(63,15,'probe',1.0,1.0,NULL,'/healthz answered 1 time(s) in a row (1 tries, 4 ms; every 100 ms, 2 s timeout, 2 s start period, 1 in a row to pass, 3 to fail)',1796640718082,1);
INSERT INTO "gate_results" VALUES(64,17,'probe',1.0,1.0,NULL,'/healthz answered 1 time(s) in a row (1 tries, 2 ms; every 100 ms, 2 s timeout, 2 s start period, 1 in a row to pass, 3 to fail)',1796640718082,1);
INSERT INTO "gate_results" VALUES(65,19,'probe',1.0,1.0,NULL,'/healthz answered 1 time(s) in a row (1 tries, 2 ms; every 100 ms, 2 s timeout, 2 s start period, 1 in a row to pass, 3 to fail)',1796640718086,1);
INSERT INTO "gate_results" VALUES(66,18,'probe',1.0,1.0,NULL,'/healthz answered 1 time(s) in a row (1 tries, 3 ms; every 100 ms, 2 s timeout, 2 s start period, 1 in a row to pass, 3 to fail)',1796640718086,1);
INSERT INTO "gate_results" VALUES(67,20,'probe',1.0,1.0,NULL,'/healthz answered 1 time(s) in a row (1 tries, 2 ms; every 100 ms, 2 s timeout, 2 s start period, 1 in a row to pass, 3 to fail)',1796640718087,1);
INSERT INTO "gate_results" VALUES(68,21,'probe',1.0,1.0,NULL,'/healthz answered 1 time(s) in a row (1 tries, 1 ms; every 100 ms, 2 s timeout, 2 s start period, 1 in a row to pass, 3 to fail)',1796640718089,1);
INSERT INTO "gate_results" VALUES(69,14,'metric:errors',0.0,0.01,NULL,'error ratio 0.0% (0 of 3 requests) is within the bound 1.0%',1796640718588,1);
INSERT INTO "gate_results" VALUES(70,14,'metric:p99-latency',4.94999999999999953925e-03,0.25,NULL,'p99 latency 4.95 ms is within 250 ms',1796640718589,1);
INSERT INTO "gate_results" VALUES(71,16,'metric:errors',0.0,0.01,NULL,'error ratio 0.0% (0 of 3 requests) is within the bound 1.0%',1796640718590,1);
INSERT INTO "gate_results" VALUES(72,15,'metric:errors',0.0,0.01,NULL,'error ratio 0.0% (0 of 3 requests) is within the bound 1.0%',1796640718592,1);
INSERT INTO "gate_results" VALUES(73,16,'metric:p99-latency',4.94999999999999953925e-03,0.25,NULL,'p99 latency 4.95 ms is within 250 ms',1796640718592,1);
INSERT INTO "gate_results" VALUES(74,19,'metric:errors',0.0,0.01,NULL,'error ratio 0.0% (0 of 3 requests) is within the bound 1.0%',1796640718593,1);
INSERT INTO "gate_results" VALUES(75,15,'metric:p99-latency',4.94999999999999953925e-03,0.25,NULL,'p99 latency 4.95 ms is within 250 ms',1796640718593,1);
INSERT INTO "gate_results" VALUES(76,17,'metric:errors',0.0,0.01,NULL,'error ratio 0.0% (0 of 3 requests) is within the bound 1.0%',1796640718595,1);
INSERT INTO "gate_results" VALUES(77,19,'metric:p99-latency',4.94999999999999953925e-03,0.25,NULL,'p99 latency 4.95 ms is within 250 ms',1796640718595,1);
INSERT INTO "gate_results" VALUES(78,18,'metric:errors',0.0,0.01,NULL,'error ratio 0.0% (0 of 3 requests) is within the bound 1.0%',1796640718596,1);
INSERT INTO "gate_results" VALUES(79,21,'metric:errors',0.0,0.01,NULL,'error ratio 0.0% (0 of 3 requests) is within the bound 1.0%',1796640718597,1);
INSERT INTO "gate_results" VALUES(80,20,'metric:errors',0.0,0.01,NULL,'error ratio 0.0% (0 of 3 requests) is within the bound 1.0%',1796640718598,1);
INSERT INTO "gate_results" VALUES(81,17,'metric:p99-latency',4.94999999999999953925e-03,0.25,NULL,'p99 latency 4.95 ms is within 250 ms',1796640718599,1);
INSERT INTO "gate_results" VALUES(82,18,'metric:p99-latency',4.94999999999999953925e-03,0.25,NULL,'p99 latency 4.95 ms is within 250 ms',1796640718600,1);
INSERT INTO "gate_results" VALUES(83,21,'metric:p99-latency',4.94999999999999953925e-03,0.25,NULL,'p99 latency 4.95 ms is within 250 ms',1796640718600,1);
INSERT INTO "gate_results" VALUES(84,20,'metric:p99-latency',4.94999999999999953925e-03,0.25,NULL,'p99 latency 4.95 ms is within 250 ms',1796640718601,1);
INSERT INTO "gate_results" VALUES(85,22,'config',NULL,NULL,NULL,'ee''s config matches v1''s schema',1796640718638,1);
INSERT INTO "gate_results" VALUES(86,23,'config',NULL,NULL,NULL,'cz''s config matches v1''s schema',1796640718645,1);
INSERT INTO "gate_results" VALUES(87,24,'config',NULL,NULL,NULL,'sk''s config matches v1''s schema',1796640718653,1);
INSERT INTO "gate_results" VALUES(88,25,'config',NULL,NULL,NULL,'lv''s config matches v1''s schema',1796640718665,1);
INSERT INTO "gate_results" VALUES(89,22,'probe',1.0,1.0,NULL,'/healthz answered 1 time(s) in a row (1 tries, 2 ms; every 100 ms, 2 s timeout, 2 s start period, 1 in a row to pass, 3 to fail)',1796640718687,1);
INSERT INTO "gate_results" VALUES(90,23,'probe',1.0,1.0,NULL,'/healthz answered 1 time(s) in a row (1 tries, 2 ms; every 100 ms, 2 s timeout, 2 s start period, 1 in a row to pass, 3 to fail)',1796640718688,1);
INSERT INTO "gate_results" VALUES(91,25,'probe',1.0,1.0,NULL,'/healthz answered 1 time(s) in a row (1 tries, 1 ms; every 100 ms, 2 s timeout, 2 s start period, 1 in a row to pass, 3 to fail)',1796640718689,1);
INSERT INTO "gate_results" VALUES(92,24,'probe',1.0,1.0,NULL,'/healthz answered 1 time(s) in a row (1 tries, 3 ms; every 100 ms, 2 s timeout, 2 s start period, 1 in a row to pass, 3 to fail)',1796640718689,1);
INSERT INTO "gate_results" VALUES(93,23,'metric:errors',0.0,0.01,NULL,'error ratio 0.0% (0 of 3 requests) is within the bound 1.0%',1796640719192,1);
INSERT INTO "gate_results" VALUES(94,23,'metric:p99-latency',4.94999999999999953925e-03,0.25,NULL,'p99 latency 4.95 ms is within 250 ms',1796640719193,1);
INSERT INTO "gate_results" VALUES(95,25,'metric:errors',0.0,0.01,NULL,'error ratio 0.0% (0 of 3 requests) is within the bound 1.0%',1796640719194,1);
INSERT INTO "gate_results" VALUES(96,24,'metric:errors',0.0,0.01,NULL,'error ratio 0.0% (0 of 3 requests) is within the bound 1.0%',1796640719194,1);
INSERT INTO "gate_results" VALUES(97,22,'metric:errors',0.0,0.01,NULL,'error ratio 0.0% (0 of 3 requests) is within the bound 1.0%',1796640719195,1);
INSERT INTO "gate_results" VALUES(98,25,'metric:p99-latency',4.94999999999999953925e-03,0.25,NULL,'p99 latency 4.95 ms is within 250 ms',1796640719195,1);
INSERT INTO "gate_results" VALUES(99,24,'metric:p99-latency',4.94999999999999953925e-03,0.25,NULL,'p99 latency 4.95 ms is within 250 ms',1796640719196,1);
INSERT INTO "gate_results" VALUES(100,22,'metric:p99-latency',4.94999999999999953925e-03,0.25,NULL,'p99 latency 4.95 ms is within 250 ms',1796640719200,1);
INSERT INTO "gate_results" VALUES(101,26,'config',NULL,NULL,NULL,'fr''s config matches v2''s schema',1796640732228,1);
INSERT INTO "gate_results" VALUES(102,26,'probe',1.0,1.0,NULL,'/healthz answered 1 time(s) in a row (1 tries, 22 ms; every 100 ms, 2 s timeout, 2 s start period, 1 in a row to pass, 3 to fail)',1796640732256,1);
INSERT INTO "gate_results" VALUES(103,26,'metric:errors@25%',4.15094339622641528286e-01,0.01,NULL,'error ratio 41.5% (22 of 53 requests) is over the bound 1.0%',1796640732791,0);
INSERT INTO "gate_results" VALUES(104,26,'metric:p99-latency@25%',0.00495,0.25,NULL,'p99 latency 4.95 ms is within 250 ms',1796640732798,1);
INSERT INTO "gate_results" VALUES(105,26,'canary',25.0,NULL,NULL,'25% of fr''s requests: 51 reached the new release, 22 failed; metric gate failed: errors: error ratio 41.5% (22 of 53 requests) is over the bound 1.0%; every request back on the release fr runs 41.4 ms after the window ended (the switch itself: 0.004 ms)',1796640732798,0);
INSERT INTO "gate_results" VALUES(106,26,'recovery',6.84528539999999878756e+01,NULL,NULL,'v1 answered 68.5 ms after the failed gate (it kept serving throughout)',1796640732874,1);
INSERT INTO "gate_results" VALUES(107,27,'config',NULL,NULL,NULL,'nl''s config matches v1''s schema',1796640741534,1);
INSERT INTO "gate_results" VALUES(108,27,'probe',1.0,1.0,NULL,'/healthz answered 1 time(s) in a row (1 tries, 2 ms; every 100 ms, 2 s timeout, 2 s start period, 1 in a row to pass, 3 to fail)',1796640741541,1);
INSERT INTO "gate_results" VALUES(109,27,'metric:errors@25%',0.0,0.01,NULL,'error ratio 0.0% (0 of 10 requests) is within the bound 1.0%',1796640742052,1);
INSERT INTO "gate_results" VALUES(110,27,'metric:p99-latency@25%',0.00495,0.25,NULL,'p99 latency 4.95 ms is within 250 ms',1796640742057,1);
INSERT INTO "gate_results" VALUES(111,27,'canary',25.0,NULL,NULL,'25% of nl''s requests: 7 reached the new release, 0 failed; its checks passed',1796640742058,1);
INSERT INTO "gate_results" VALUES(112,27,'metric:errors@100%',0.0,0.01,NULL,'error ratio 0.0% (0 of 32 requests) is within the bound 1.0%',1796640742568,1);
INSERT INTO "gate_results" VALUES(113,27,'metric:p99-latency@100%',0.00495,0.25,NULL,'p99 latency 4.95 ms is within 250 ms',1796640742570,1);
INSERT INTO "gate_results" VALUES(114,27,'canary',100.0,NULL,NULL,'100% of nl''s requests: 30 reached the new release, 0 failed; its checks passed',1796640742570,1);
CREATE TABLE handoffs (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    payload     TEXT NOT NULL,
    actor       TEXT NOT NULL,
    via         TEXT,
    address     TEXT,
    created_at  BIGINT NOT NULL,
    taken_by    TEXT,
    done_at     BIGINT,
    result      TEXT,
    error       TEXT
);
CREATE TABLE id_counters (
    scope      TEXT PRIMARY KEY,
    last_taken BIGINT NOT NULL
);
INSERT INTO "id_counters" VALUES('idea',4);
INSERT INTO "id_counters" VALUES('release/shop',2);
INSERT INTO "id_counters" VALUES('flag_version/shop',1);
INSERT INTO "id_counters" VALUES('config_version/shop',2);
CREATE TABLE ideas (
    id         INTEGER PRIMARY KEY,
    key        TEXT NOT NULL UNIQUE,
    title      TEXT NOT NULL,
    markets    TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
INSERT INTO "ideas" VALUES(1,'T-1','Storefront in every market''s language and currency','[]',1796640709816);
INSERT INTO "ideas" VALUES(2,'T-2','Ship the shop through Tandem''s pipeline','[]',1796640709822);
INSERT INTO "ideas" VALUES(3,'T-3','Pay with iDEAL in the Netherlands','["nl"]',1796640709827);
INSERT INTO "ideas" VALUES(4,'T-4','Show a delivery estimate per country','[]',1796640719327);
CREATE TABLE incidents (
    id            INTEGER PRIMARY KEY,
    service       TEXT NOT NULL,
    market        TEXT NOT NULL,
    deployment_id BIGINT REFERENCES deployments (id),
    title         TEXT NOT NULL,
    state         TEXT NOT NULL,
    opened_at     BIGINT NOT NULL,
    resolved_at   BIGINT
, source TEXT NOT NULL DEFAULT 'gate', opened_by TEXT, resolved_by TEXT, fingerprint TEXT, summary TEXT);
INSERT INTO "incidents" VALUES(1,'shop','fr',26,'shop v2 failed its gate in fr: canary at 25%: metric gate failed: errors: error ratio 41.5% (22 of 53 requests) is over the bound 1.0%','resolved',1796640732845,1796640732882,'gate',NULL,'tandem (the previous release answers its probe)',NULL,NULL);
INSERT INTO "incidents" VALUES(2,'shop','pl',20,'pl stopped answering its probe /healthz (3 failures in a row)','resolved',1796640744181,1796640747581,'probe','tandem (monitor)','tandem (the market answers its probe again)','probe/shop/pl','http://127.0.0.1:32737/healthz did not answer within 500 ms');
CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY,
    run_id      BIGINT NOT NULL REFERENCES runs (id),
    name        TEXT NOT NULL,
    position    BIGINT NOT NULL,
    needs       TEXT NOT NULL,
    state       TEXT NOT NULL,
    exit_code   BIGINT,
    log_digest  TEXT,
    started_at  BIGINT,
    finished_at BIGINT, plan TEXT, runs_on TEXT, offered_at BIGINT, agent_id BIGINT, claim_hash TEXT, lease_until BIGINT, claims BIGINT NOT NULL DEFAULT 0, lost BIGINT NOT NULL DEFAULT 0, cancel_asked_at BIGINT, waiting TEXT,
    UNIQUE (run_id, name)
);
INSERT INTO "jobs" VALUES(1,1,'test',0,'[]','success',0,'57fbd110208b6ba52d2e1f22ca67a2f7d670c5fee7116f2844a2b622dd83bbce',1796640709871,1796640711794,'{"job_id":1,"run_id":1,"service":"shop","commit":"f8495e96b6340fd289c374b775eac279deb622f2","name":"test","spec":{"name":"test","needs":[],"env":{},"condition":null,"timeout":null,"retry":0,"continue_on_error":false,"secrets":[],"matrix":{},"steps":[{"name":null,"run":"cargo test --offline --quiet","shell":null,"working_directory":null,"env":{},"condition":null}],"artifacts":[],"retention":null,"cache":null,"limits":{"memory_bytes":null,"file_size_bytes":null,"cpu_seconds":null,"open_files":null},"runs_on":[],"agent_lost":"retry"},"step_ids":[1],"env":{"CARGO_TERM_COLOR":"never"},"facts_env":{"CI":"true","TANDEM_BRANCH":"main","TANDEM_COMMIT":"f8495e96b6340fd289c374b775eac279deb622f2","TANDEM_JOB":"test","TANDEM_RUN_ID":"1","TANDEM_SERVICE":"shop","TANDEM_TRIGGER":"api"},"facts":{"branch":"main","event":"api","job":"test","service":"shop"},"max_artifact_bytes":2147483648,"max_log_bytes":4294967296}','[]',1796640709869,1,NULL,NULL,1,0,NULL,NULL);
INSERT INTO "jobs" VALUES(2,1,'build',1,'["test"]','success',0,'3de702a8774ac7470c2aea063f977fd8364649958240e47fba450f02a8f84a05',1796640711798,1796640715276,'{"job_id":2,"run_id":1,"service":"shop","commit":"f8495e96b6340fd289c374b775eac279deb622f2","name":"build","spec":{"name":"build","needs":["test"],"env":{},"condition":null,"timeout":null,"retry":0,"continue_on_error":false,"secrets":[],"matrix":{},"steps":[{"name":null,"run":"cargo build --offline --release --quiet","shell":null,"working_directory":null,"env":{},"condition":null}],"artifacts":["target/release/shop"],"retention":null,"cache":null,"limits":{"memory_bytes":null,"file_size_bytes":null,"cpu_seconds":null,"open_files":null},"runs_on":[],"agent_lost":"retry"},"step_ids":[2],"env":{"CARGO_TERM_COLOR":"never"},"facts_env":{"CI":"true","TANDEM_BRANCH":"main","TANDEM_COMMIT":"f8495e96b6340fd289c374b775eac279deb622f2","TANDEM_JOB":"build","TANDEM_RUN_ID":"1","TANDEM_SERVICE":"shop","TANDEM_TRIGGER":"api"},"facts":{"branch":"main","event":"api","job":"build","service":"shop"},"max_artifact_bytes":2147483648,"max_log_bytes":4294967296}','[]',1796640711796,1,NULL,NULL,1,0,NULL,NULL);
INSERT INTO "jobs" VALUES(3,2,'test',0,'[]','success',0,'ebb99467d63b42783d3dab294cde3e5017e3f7f447f596101960f10cc7ed6a2d',1796640719509,1796640725095,'{"job_id":3,"run_id":2,"service":"shop","commit":"8cd9e46aecaf67a158b88362be89b3b04b63d483","name":"test","spec":{"name":"test","needs":[],"env":{},"condition":null,"timeout":null,"retry":0,"continue_on_error":false,"secrets":[],"matrix":{},"steps":[{"name":null,"run":"cargo test --offline --quiet","shell":null,"working_directory":null,"env":{},"condition":null}],"artifacts":[],"retention":null,"cache":null,"limits":{"memory_bytes":null,"file_size_bytes":null,"cpu_seconds":null,"open_files":null},"runs_on":[],"agent_lost":"retry"},"step_ids":[3],"env":{"CARGO_TERM_COLOR":"never"},"facts_env":{"CI":"true","TANDEM_BRANCH":"main","TANDEM_COMMIT":"8cd9e46aecaf67a158b88362be89b3b04b63d483","TANDEM_JOB":"test","TANDEM_RUN_ID":"2","TANDEM_SERVICE":"shop","TANDEM_TRIGGER":"api"},"facts":{"branch":"main","event":"api","job":"test","service":"shop"},"max_artifact_bytes":2147483648,"max_log_bytes":4294967296}','[]',1796640719506,1,NULL,NULL,1,0,NULL,NULL);
INSERT INTO "jobs" VALUES(4,2,'build',1,'["test"]','success',0,'ad83933b1f606634a4ff217411010c84f8e917987546f4352ae4f289b6efed0c',1796640725115,1796640732026,'{"job_id":4,"run_id":2,"service":"shop","commit":"8cd9e46aecaf67a158b88362be89b3b04b63d483","name":"build","spec":{"name":"build","needs":["test"],"env":{},"condition":null,"timeout":null,"retry":0,"continue_on_error":false,"secrets":[],"matrix":{},"steps":[{"name":null,"run":"cargo build --offline --release --quiet","shell":null,"working_directory":null,"env":{},"condition":null}],"artifacts":["target/release/shop"],"retention":null,"cache":null,"limits":{"memory_bytes":null,"file_size_bytes":null,"cpu_seconds":null,"open_files":null},"runs_on":[],"agent_lost":"retry"},"step_ids":[4],"env":{"CARGO_TERM_COLOR":"never"},"facts_env":{"CI":"true","TANDEM_BRANCH":"main","TANDEM_COMMIT":"8cd9e46aecaf67a158b88362be89b3b04b63d483","TANDEM_JOB":"build","TANDEM_RUN_ID":"2","TANDEM_SERVICE":"shop","TANDEM_TRIGGER":"api"},"facts":{"branch":"main","event":"api","job":"build","service":"shop"},"max_artifact_bytes":2147483648,"max_log_bytes":4294967296}','[]',1796640725110,1,NULL,NULL,1,0,NULL,NULL);
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    fence      BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
INSERT INTO "leases" VALUES('conductor','vm/1ed5c5a5e776ad46',1,0);
CREATE TABLE live_logs (
    job_id        BIGINT NOT NULL,
    start_offset  BIGINT NOT NULL,
    bytes         BLOB NOT NULL,
    PRIMARY KEY (job_id, start_offset)
);
CREATE TABLE log_chunks (
    log_digest  TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    start       BIGINT NOT NULL,
    length      BIGINT NOT NULL,
    digest      TEXT NOT NULL,
    PRIMARY KEY (log_digest, seq)
);
INSERT INTO "log_chunks" VALUES('57fbd110208b6ba52d2e1f22ca67a2f7d670c5fee7116f2844a2b622dd83bbce',0,0,299,'2f65736ea34fe749625c69de4a053a365d0d30db7116d60a7da2db82c78adfb6');
INSERT INTO "log_chunks" VALUES('3de702a8774ac7470c2aea063f977fd8364649958240e47fba450f02a8f84a05',0,0,243,'809b68771e4c2a648ee8596f47e3d327b1353afb564c5d8297deee447e502a18');
INSERT INTO "log_chunks" VALUES('ebb99467d63b42783d3dab294cde3e5017e3f7f447f596101960f10cc7ed6a2d',0,0,299,'cd3acf3fc2fdc95f31d1261ceea7027e17b9404165fea62b3d6b7ee29f4e0c56');
INSERT INTO "log_chunks" VALUES('ad83933b1f606634a4ff217411010c84f8e917987546f4352ae4f289b6efed0c',0,0,243,'7ffdb79258540161324f6454db8749242bbdd970f56e1f008cfb5cce185b4f7d');
CREATE TABLE login_codes (
    hash       TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL,
    token_id   BIGINT REFERENCES tokens (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE TABLE market_configs (
    id            INTEGER PRIMARY KEY,
    service       TEXT NOT NULL,
    market        TEXT NOT NULL,
    version       BIGINT NOT NULL,
    deployment_id BIGINT REFERENCES deployments (id),
    set_by        TEXT NOT NULL,
    reason        TEXT NOT NULL,
    set_at        BIGINT NOT NULL
);
INSERT INTO "market_configs" VALUES(1,'shop','fr',1,NULL,'tandem','the version it ran when a newer one was written',1796640741166);
INSERT INTO "market_configs" VALUES(2,'shop','be',1,NULL,'tandem','the version it ran when a newer one was written',1796640741166);
INSERT INTO "market_configs" VALUES(3,'shop','nl',1,NULL,'tandem','the version it ran when a newer one was written',1796640741166);
INSERT INTO "market_configs" VALUES(4,'shop','lu',1,NULL,'tandem','the version it ran when a newer one was written',1796640741166);
INSERT INTO "market_configs" VALUES(5,'shop','de',1,NULL,'tandem','the version it ran when a newer one was written',1796640741166);
INSERT INTO "market_configs" VALUES(6,'shop','at',1,NULL,'tandem','the version it ran when a newer one was written',1796640741166);
INSERT INTO "market_configs" VALUES(7,'shop','ch',1,NULL,'tandem','the version it ran when a newer one was written',1796640741166);
INSERT INTO "market_configs" VALUES(8,'shop','it',1,NULL,'tandem','the version it ran when a newer one was written',1796640741166);
INSERT INTO "market_configs" VALUES(9,'shop','es',1,NULL,'tandem','the version it ran when a newer one was written',1796640741166);
INSERT INTO "market_configs" VALUES(10,'shop','pt',1,NULL,'tandem','the version it ran when a newer one was written',1796640741166);
INSERT INTO "market_configs" VALUES(11,'shop','gr',1,NULL,'tandem','the version it ran when a newer one was written',1796640741166);
INSERT INTO "market_configs" VALUES(12,'shop','mt',1,NULL,'tandem','the version it ran when a newer one was written',1796640741166);
INSERT INTO "market_configs" VALUES(13,'shop','cy',1,NULL,'tandem','the version it ran when a newer one was written',1796640741166);
INSERT INTO "market_configs" VALUES(14,'shop','ie',1,NULL,'tandem','the version it ran when a newer one was written',1796640741166);
INSERT INTO "market_configs" VALUES(15,'shop','gb',1,NULL,'tandem','the version it ran when a newer one was written',1796640741166);
INSERT INTO "market_configs" VALUES(16,'shop','se',1,NULL,'tandem','the version it ran when a newer one was written',1796640741166);
INSERT INTO "market_configs" VALUES(17,'shop','dk',1,NULL,'tandem','the version it ran when a newer one was written',1796640741166);
INSERT INTO "market_configs" VALUES(18,'shop','fi',1,NULL,'tandem','the version it ran when a newer one was written',1796640741166);
INSERT INTO "market_configs" VALUES(19,'shop','ee',1,NULL,'tandem','the version it ran when a newer one was written',1796640741166);
INSERT INTO "market_configs" VALUES(20,'shop','lv',1,NULL,'tandem','the version it ran when a newer one was written',1796640741166);
INSERT INTO "market_configs" VALUES(21,'shop','lt',1,NULL,'tandem','the version it ran when a newer one was written',1796640741166);
INSERT INTO "market_configs" VALUES(22,'shop','pl',1,NULL,'tandem','the version it ran when a newer one was written',1796640741166);
INSERT INTO "market_configs" VALUES(23,'shop','cz',1,NULL,'tandem','the version it ran when a newer one was written',1796640741166);
INSERT INTO "market_configs" VALUES(24,'shop','sk',1,NULL,'tandem','the version it ran when a newer one was written',1796640741166);
INSERT INTO "market_configs" VALUES(25,'shop','hu',1,NULL,'tandem','the version it ran when a newer one was written',1796640741166);
INSERT INTO "market_configs" VALUES(26,'shop','fr',2,NULL,'tandem','config rollout 3: its config does not change',1796640741225);
INSERT INTO "market_configs" VALUES(27,'shop','lu',2,NULL,'tandem','config rollout 3: its config does not change',1796640741472);
INSERT INTO "market_configs" VALUES(28,'shop','be',2,NULL,'tandem','config rollout 3: its config does not change',1796640741474);
INSERT INTO "market_configs" VALUES(29,'shop','nl',2,27,'tandem','config deployment passed its gates',1796640742595);
INSERT INTO "market_configs" VALUES(30,'shop','at',2,NULL,'tandem','config rollout 3: its config does not change',1796640742641);
INSERT INTO "market_configs" VALUES(31,'shop','ch',2,NULL,'tandem','config rollout 3: its config does not change',1796640742645);
INSERT INTO "market_configs" VALUES(32,'shop','de',2,NULL,'tandem','config rollout 3: its config does not change',1796640742648);
INSERT INTO "market_configs" VALUES(33,'shop','it',2,NULL,'tandem','config rollout 3: its config does not change',1796640742708);
INSERT INTO "market_configs" VALUES(34,'shop','es',2,NULL,'tandem','config rollout 3: its config does not change',1796640742712);
INSERT INTO "market_configs" VALUES(35,'shop','cy',2,NULL,'tandem','config rollout 3: its config does not change',1796640742715);
INSERT INTO "market_configs" VALUES(36,'shop','gr',2,NULL,'tandem','config rollout 3: its config does not change',1796640742723);
INSERT INTO "market_configs" VALUES(37,'shop','mt',2,NULL,'tandem','config rollout 3: its config does not change',1796640742727);
INSERT INTO "market_configs" VALUES(38,'shop','pt',2,NULL,'tandem','config rollout 3: its config does not change',1796640742733);
INSERT INTO "market_configs" VALUES(39,'shop','se',2,NULL,'tandem','config rollout 3: its config does not change',1796640742804);
INSERT INTO "market_configs" VALUES(40,'shop','dk',2,NULL,'tandem','config rollout 3: its config does not change',1796640742808);
INSERT INTO "market_configs" VALUES(41,'shop','fi',2,NULL,'tandem','config rollout 3: its config does not change',1796640742814);
INSERT INTO "market_configs" VALUES(42,'shop','hu',2,NULL,'tandem','config rollout 3: its config does not change',1796640742822);
INSERT INTO "market_configs" VALUES(43,'shop','ee',2,NULL,'tandem','config rollout 3: its config does not change',1796640742833);
INSERT INTO "market_configs" VALUES(44,'shop','ie',2,NULL,'tandem','config rollout 3: its config does not change',1796640742839);
INSERT INTO "market_configs" VALUES(45,'shop','gb',2,NULL,'tandem','config rollout 3: its config does not change',1796640742846);
INSERT INTO "market_configs" VALUES(46,'shop','lv',2,NULL,'tandem','config rollout 3: its config does not change',1796640742850);
INSERT INTO "market_configs" VALUES(47,'shop','lt',2,NULL,'tandem','config rollout 3: its config does not change',1796640742857);
INSERT INTO "market_configs" VALUES(48,'shop','pl',2,NULL,'tandem','config rollout 3: its config does not change',1796640742860);
INSERT INTO "market_configs" VALUES(49,'shop','sk',2,NULL,'tandem','config rollout 3: its config does not change',1796640742870);
INSERT INTO "market_configs" VALUES(50,'shop','cz',2,NULL,'tandem','config rollout 3: its config does not change',1796640742876);
CREATE TABLE market_health (
    service TEXT NOT NULL,
    market TEXT NOT NULL,
    deployment_id INTEGER,
    -- up or down (down: `failures` probes failed in a row)
    state TEXT NOT NULL,
    failures_in_a_row INTEGER NOT NULL DEFAULT 0,
    probed_at INTEGER NOT NULL,
    last_ok_at INTEGER,
    latency_ms REAL,
    error TEXT,
    -- the incident the monitor opened for this outage, until it recovers
    incident_id INTEGER,
    PRIMARY KEY (service, market)
);
INSERT INTO "market_health" VALUES('shop','fr',1,'up',0,1796640746791,1796640746791,6.016485,NULL,NULL);
INSERT INTO "market_health" VALUES('shop','be',2,'up',0,1796640746791,1796640746791,5.388716,NULL,NULL);
INSERT INTO "market_health" VALUES('shop','lu',3,'up',0,1796640746792,1796640746792,3.98829300000000053216e+00,NULL,NULL);
INSERT INTO "market_health" VALUES('shop','nl',27,'up',0,1796640747580,1796640747580,2.94093300000000024141e+00,NULL,NULL);
INSERT INTO "market_health" VALUES('shop','de',7,'up',0,1796640746792,1796640746792,3.265202,NULL,NULL);
INSERT INTO "market_health" VALUES('shop','ch',6,'up',0,1796640746791,1796640746791,5.95157900000000061879e+00,NULL,NULL);
INSERT INTO "market_health" VALUES('shop','at',5,'up',0,1796640746790,1796640746790,5.109913,NULL,NULL);
INSERT INTO "market_health" VALUES('shop','pt',10,'up',0,1796640746793,1796640746793,4.157424,NULL,NULL);
INSERT INTO "market_health" VALUES('shop','mt',9,'up',0,1796640746792,1796640746792,3.383938,NULL,NULL);
INSERT INTO "market_health" VALUES('shop','it',8,'up',0,1796640746792,1796640746792,2.90524,NULL,NULL);
INSERT INTO "market_health" VALUES('shop','cy',12,'up',0,1796640746791,1796640746791,2.72192900000000026494e+00,NULL,NULL);
INSERT INTO "market_health" VALUES('shop','gr',11,'up',0,1796640746791,1796640746791,2.78833700000000028751e+00,NULL,NULL);
INSERT INTO "market_health" VALUES('shop','es',13,'up',0,1796640746791,1796640746791,5.655981,NULL,NULL);
INSERT INTO "market_health" VALUES('shop','pl',20,'up',0,1796640747581,1796640747581,4.091816,NULL,NULL);
INSERT INTO "market_health" VALUES('shop','dk',14,'up',0,1796640747579,1796640747579,4.11524,NULL,NULL);
INSERT INTO "market_health" VALUES('shop','fi',21,'up',0,1796640747579,1796640747579,4.272023,NULL,NULL);
INSERT INTO "market_health" VALUES('shop','se',18,'up',0,1796640747578,1796640747578,3.73211399999999970944e+00,NULL,NULL);
INSERT INTO "market_health" VALUES('shop','gb',17,'up',0,1796640747580,1796640747580,2.62172000000000027242e+00,NULL,NULL);
INSERT INTO "market_health" VALUES('shop','ie',16,'up',0,1796640747580,1796640747580,2.660638,NULL,NULL);
INSERT INTO "market_health" VALUES('shop','lt',15,'up',0,1796640747580,1796640747580,2.982324,NULL,NULL);
INSERT INTO "market_health" VALUES('shop','hu',19,'up',0,1796640747579,1796640747579,4.02735,NULL,NULL);
INSERT INTO "market_health" VALUES('shop','sk',24,'up',0,1796640746790,1796640746790,3.09477,NULL,NULL);
INSERT INTO "market_health" VALUES('shop','ee',22,'up',0,1796640746790,1796640746790,4.89447400000000065745e+00,NULL,NULL);
INSERT INTO "market_health" VALUES('shop','lv',25,'up',0,1796640746793,1796640746793,0.54665,NULL,NULL);
INSERT INTO "market_health" VALUES('shop','cz',23,'up',0,1796640746792,1796640746792,2.852632,NULL,NULL);
CREATE TABLE market_launches (
    market       TEXT PRIMARY KEY,
    launched_at  BIGINT NOT NULL,
    launched_by  TEXT NOT NULL,
    checklist    TEXT NOT NULL
);
INSERT INTO "market_launches" VALUES('hu',1796640747842,'olga (ops)','[{"check":"config","passed":true,"reason":"hu''s config fits the schema of v1","service":"shop"},{"check":"flags","passed":true,"reason":"3 flag(s) of shop (version 1) resolve in hu, 0 with targeting of its own","service":"shop"},{"check":"release","passed":true,"reason":"v1 (the release in production) is live in hu","service":"shop"},{"check":"probe","passed":true,"reason":"GET http://127.0.0.1:32736/healthz answered 200","service":"shop"}]');
CREATE TABLE market_locks (
    service     TEXT NOT NULL,
    market      TEXT NOT NULL,
    rollout_id  BIGINT REFERENCES rollouts (id),
    holder      TEXT NOT NULL,
    acquired_at BIGINT NOT NULL,
    PRIMARY KEY (service, market)
);
CREATE TABLE market_processes (
    id            INTEGER PRIMARY KEY,
    service       TEXT NOT NULL,
    market        TEXT NOT NULL,
    release_id    BIGINT NOT NULL,
    deployment_id BIGINT NOT NULL,
    port          INTEGER NOT NULL,
    instance      TEXT NOT NULL UNIQUE,
    pid           BIGINT,
    pgid          BIGINT,
    start_ticks   BIGINT,
    boot_id       TEXT,
    -- 1 once it serves the market (promoted), 0 while its gates judge it
    serving       INTEGER NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL
);
CREATE TABLE markets (
    id        TEXT PRIMARY KEY,
    name      TEXT NOT NULL,
    region    TEXT NOT NULL,
    currency  TEXT NOT NULL,
    locale    TEXT NOT NULL,
    timezone  TEXT NOT NULL,
    state     TEXT NOT NULL,
    position  BIGINT NOT NULL
);
INSERT INTO "markets" VALUES('fr','France','west','EUR','fr-FR','Europe/Paris','live',0);
INSERT INTO "markets" VALUES('be','Belgium','west','EUR','fr-BE','Europe/Brussels','live',1);
INSERT INTO "markets" VALUES('nl','Netherlands','west','EUR','nl-NL','Europe/Amsterdam','live',2);
INSERT INTO "markets" VALUES('lu','Luxembourg','west','EUR','fr-LU','Europe/Luxembourg','live',3);
INSERT INTO "markets" VALUES('de','Germany','central','EUR','de-DE','Europe/Berlin','live',4);
INSERT INTO "markets" VALUES('at','Austria','central','EUR','de-AT','Europe/Vienna','live',5);
INSERT INTO "markets" VALUES('ch','Switzerland','central','CHF','de-CH','Europe/Zurich','live',6);
INSERT INTO "markets" VALUES('it','Italy','south','EUR','it-IT','Europe/Rome','live',7);
INSERT INTO "markets" VALUES('es','Spain','south','EUR','es-ES','Europe/Madrid','live',8);
INSERT INTO "markets" VALUES('pt','Portugal','south','EUR','pt-PT','Europe/Lisbon','live',9);
INSERT INTO "markets" VALUES('gr','Greece','south','EUR','el-GR','Europe/Athens','live',10);
INSERT INTO "markets" VALUES('mt','Malta','south','EUR','en-MT','Europe/Malta','live',11);
INSERT INTO "markets" VALUES('cy','Cyprus','south','EUR','el-CY','Asia/Nicosia','live',12);
INSERT INTO "markets" VALUES('ie','Ireland','north','EUR','en-IE','Europe/Dublin','live',13);
INSERT INTO "markets" VALUES('gb','United Kingdom','north','GBP','en-GB','Europe/London','live',14);
INSERT INTO "markets" VALUES('se','Sweden','north','SEK','sv-SE','Europe/Stockholm','live',15);
INSERT INTO "markets" VALUES('dk','Denmark','north','DKK','da-DK','Europe/Copenhagen','live',16);
INSERT INTO "markets" VALUES('fi','Finland','north','EUR','fi-FI','Europe/Helsinki','live',17);
INSERT INTO "markets" VALUES('ee','Estonia','east','EUR','et-EE','Europe/Tallinn','live',18);
INSERT INTO "markets" VALUES('lv','Latvia','east','EUR','lv-LV','Europe/Riga','live',19);
INSERT INTO "markets" VALUES('lt','Lithuania','east','EUR','lt-LT','Europe/Vilnius','live',20);
INSERT INTO "markets" VALUES('pl','Poland','east','PLN','pl-PL','Europe/Warsaw','live',21);
INSERT INTO "markets" VALUES('cz','Czechia','east','CZK','cs-CZ','Europe/Prague','live',22);
INSERT INTO "markets" VALUES('sk','Slovakia','east','EUR','sk-SK','Europe/Bratislava','live',23);
INSERT INTO "markets" VALUES('hu','Hungary','east','HUF','hu-HU','Europe/Budapest','live',24);
CREATE TABLE platform_policies (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO "platform_policies" VALUES('approvals','[{"after":"pilot","role":"operator"}]');
INSERT INTO "platform_policies" VALUES('freezes','[]');
INSERT INTO "platform_policies" VALUES('notifications','[{"name":"team-chat","kind":"slack","url":"http://127.0.0.1:41583/team-chat","events":["rollout.halted","rollout.blocked","rollout.succeeded","rollback","incident.opened","incident.resolved","approval.requested","market.launched"],"secret":null}]');
INSERT INTO "platform_policies" VALUES('changes','{"production":{"approvals":1,"from":"other-side"},"other":{"approvals":0,"from":"other-side"}}');
INSERT INTO "platform_policies" VALUES('flags','{"emergency-role":"operator"}');
INSERT INTO "platform_policies" VALUES('sso','null');
CREATE TABLE releases (
    id          INTEGER PRIMARY KEY,
    service     TEXT NOT NULL,
    version     TEXT NOT NULL,
    commit_sha  TEXT NOT NULL,
    run_id      BIGINT NOT NULL REFERENCES runs (id),
    spec        TEXT NOT NULL,
    created_at  BIGINT NOT NULL, builder TEXT NOT NULL DEFAULT '', config_schema TEXT,
    UNIQUE (service, version)
);
INSERT INTO "releases" VALUES(1,'shop','v1','f8495e96b6340fd289c374b775eac279deb622f2',1,'{"service":"shop","env":{"CARGO_TERM_COLOR":"never"},"jobs":[{"name":"test","needs":[],"env":{},"condition":null,"timeout":null,"retry":0,"continue_on_error":false,"secrets":[],"matrix":{},"steps":[{"name":null,"run":"cargo test --offline --quiet","shell":null,"working_directory":null,"env":{},"condition":null}],"artifacts":[],"retention":null,"cache":null,"limits":{"memory_bytes":null,"file_size_bytes":null,"cpu_seconds":null,"open_files":null},"runs_on":[],"agent_lost":"retry"},{"name":"build","needs":["test"],"env":{},"condition":null,"timeout":null,"retry":0,"continue_on_error":false,"secrets":[],"matrix":{},"steps":[{"name":null,"run":"cargo build --offline --release --quiet","shell":null,"working_directory":null,"env":{},"condition":null}],"artifacts":["target/release/shop"],"retention":null,"cache":null,"limits":{"memory_bytes":null,"file_size_bytes":null,"cpu_seconds":null,"open_files":null},"runs_on":[],"agent_lost":"retry"}],"deploy":{"driver":"process","run":"{artifact:shop} --port {port}"},"gates":{"probe":{"path":"/healthz","interval":{"secs":0,"nanos":100000000},"timeout":{"secs":2,"nanos":0},"start-period":{"secs":2,"nanos":0},"successes":1,"failures":3},"bake":{"secs":0,"nanos":0},"metrics":{"path":"/metrics","window":{"secs":0,"nanos":500000000},"interval":{"secs":0,"nanos":250000000},"min_requests":1,"checks":[{"name":"errors","measure":{"error-ratio":{"errors":"shop_http_requests_total{code=~\"5..\"}","total":"shop_http_requests_total"}},"max":0.01,"vs_previous":null},{"name":"p99-latency","measure":{"latency":{"histogram":"shop_http_request_duration_seconds","quantile":0.99}},"max":0.25,"vs_previous":null}]},"canary":{"steps":[25,100]}},"config_schema":"config/schema.json","monitor":{"interval":{"secs":1,"nanos":0},"timeout":{"secs":0,"nanos":500000000},"failures":3}}',1796640715294,'tandem 0.1.0 on vm','{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "shop market config",
  "type": "object",
  "required": ["market", "currency", "locale", "vat_rate", "payment_methods", "free_shipping_threshold"],
  "properties": {
    "market": { "type": "string", "minLength": 2 },
    "name": { "type": "string" },
    "region": { "type": "string" },
    "currency": { "type": "string", "pattern": "^[A-Z]{3}$" },
    "locale": { "type": "string" },
    "timezone": { "type": "string" },
    "vat_rate": { "type": "number", "minimum": 0, "maximum": 0.5 },
    "payment_methods": {
      "type": "array",
      "minItems": 1,
      "uniqueItems": true,
      "items": { "enum": ["card", "paypal", "klarna", "ideal", "bancontact", "sofort", "twint", "bizum", "mbway", "blik", "przelewy24", "mobilepay", "swish", "vipps"] }
    },
    "free_shipping_threshold": { "type": "number", "minimum": 0 }
  },
  "additionalProperties": false
}
');
INSERT INTO "releases" VALUES(2,'shop','v2','8cd9e46aecaf67a158b88362be89b3b04b63d483',2,'{"service":"shop","env":{"CARGO_TERM_COLOR":"never"},"jobs":[{"name":"test","needs":[],"env":{},"condition":null,"timeout":null,"retry":0,"continue_on_error":false,"secrets":[],"matrix":{},"steps":[{"name":null,"run":"cargo test --offline --quiet","shell":null,"working_directory":null,"env":{},"condition":null}],"artifacts":[],"retention":null,"cache":null,"limits":{"memory_bytes":null,"file_size_bytes":null,"cpu_seconds":null,"open_files":null},"runs_on":[],"agent_lost":"retry"},{"name":"build","needs":["test"],"env":{},"condition":null,"timeout":null,"retry":0,"continue_on_error":false,"secrets":[],"matrix":{},"steps":[{"name":null,"run":"cargo build --offline --release --quiet","shell":null,"working_directory":null,"env":{},"condition":null}],"artifacts":["target/release/shop"],"retention":null,"cache":null,"limits":{"memory_bytes":null,"file_size_bytes":null,"cpu_seconds":null,"open_files":null},"runs_on":[],"agent_lost":"retry"}],"deploy":{"driver":"process","run":"{artifact:shop} --port {port}"},"gates":{"probe":{"path":"/healthz","interval":{"secs":0,"nanos":100000000},"timeout":{"secs":2,"nanos":0},"start-period":{"secs":2,"nanos":0},"successes":1,"failures":3},"bake":{"secs":0,"nanos":0},"metrics":{"path":"/metrics","window":{"secs":0,"nanos":500000000},"interval":{"secs":0,"nanos":250000000},"min_requests":1,"checks":[{"name":"errors","measure":{"error-ratio":{"errors":"shop_http_requests_total{code=~\"5..\"}","total":"shop_http_requests_total"}},"max":0.01,"vs_previous":null},{"name":"p99-latency","measure":{"latency":{"histogram":"shop_http_request_duration_seconds","quantile":0.99}},"max":0.25,"vs_previous":null}]},"canary":{"steps":[25,100]}},"config_schema":"config/schema.json","monitor":{"interval":{"secs":1,"nanos":0},"timeout":{"secs":0,"nanos":500000000},"failures":3}}',1796640732036,'tandem 0.1.0 on vm','{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "shop market config",
  "type": "object",
  "required": ["market", "currency", "locale", "vat_rate", "payment_methods", "free_shipping_threshold"],
  "properties": {
    "market": { "type": "string", "minLength": 2 },
    "name": { "type": "string" },
    "region": { "type": "string" },
    "currency": { "type": "string", "pattern": "^[A-Z]{3}$" },
    "locale": { "type": "string" },
    "timezone": { "type": "string" },
    "vat_rate": { "type": "number", "minimum": 0, "maximum": 0.5 },
    "payment_methods": {
      "type": "array",
      "minItems": 1,
      "uniqueItems": true,
      "items": { "enum": ["card", "paypal", "klarna", "ideal", "bancontact", "sofort", "twint", "bizum", "mbway", "blik", "przelewy24", "mobilepay", "swish", "vipps"] }
    },
    "free_shipping_threshold": { "type": "number", "minimum": 0 }
  },
  "additionalProperties": false
}
');
CREATE TABLE rollout_decisions (
    id          INTEGER PRIMARY KEY,
    rollout_id  BIGINT NOT NULL REFERENCES rollouts (id),
    kind        TEXT NOT NULL,
    wave        BIGINT NOT NULL DEFAULT -1,
    market      TEXT NOT NULL DEFAULT '',
    decided_by  TEXT NOT NULL,
    reason      TEXT,
    decided_at  BIGINT NOT NULL
);
INSERT INTO "rollout_decisions" VALUES(1,1,'approve',1,'','olga (ops)',NULL,1796640716131);
INSERT INTO "rollout_decisions" VALUES(2,3,'approve',1,'','olga (ops)',NULL,1796640741441);
CREATE TABLE rollouts (
    id          INTEGER PRIMARY KEY,
    service     TEXT NOT NULL,
    release_id  BIGINT NOT NULL REFERENCES releases (id),
    state       TEXT NOT NULL,
    plan        TEXT NOT NULL,
    current_wave BIGINT NOT NULL,
    reason      TEXT,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    started_at  BIGINT,
    finished_at BIGINT
, kind TEXT NOT NULL DEFAULT 'release', config_version BIGINT, change_id BIGINT, queued INTEGER NOT NULL DEFAULT 0);
INSERT INTO "rollouts" VALUES(1,'shop',1,'succeeded','[{"name":"pilot","markets":["fr"]},{"name":"benelux","markets":["be","nl","lu"]},{"name":"dach","markets":["de","at","ch"]},{"name":"south","markets":["it","es","pt","gr","mt","cy"]},{"name":"north-east","markets":["ie","gb","se","dk","fi","ee","lv","lt","pl","cz","sk","hu"]}]',4,NULL,'admin',1796640715492,1796640715527,1796640719227,'release',NULL,NULL,0);
INSERT INTO "rollouts" VALUES(2,'shop',2,'halted','[{"name":"pilot","markets":["fr"]},{"name":"benelux","markets":["be","nl","lu"]},{"name":"dach","markets":["de","at","ch"]},{"name":"south","markets":["it","es","pt","gr","mt","cy"]},{"name":"north-east","markets":["ie","gb","se","dk","fi","ee","lv","lt","pl","cz","sk","hu"]}]',0,'wave `pilot` failed its gate in fr: canary at 25%: metric gate failed: errors: error ratio 41.5% (22 of 53 requests) is over the bound 1.0%','admin',1796640732157,1796640732212,1796640732906,'release',NULL,NULL,0);
INSERT INTO "rollouts" VALUES(3,'shop',1,'succeeded','[{"name":"pilot","markets":["fr"]},{"name":"benelux","markets":["be","nl","lu"]},{"name":"dach","markets":["de","at","ch"]},{"name":"south","markets":["it","es","pt","gr","mt","cy"]},{"name":"north-east","markets":["ie","gb","se","dk","fi","ee","lv","lt","pl","cz","sk","hu"]}]',4,NULL,'dana (dev)',1796640741180,1796640741210,1796640742882,'config',2,2,1);
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    service     TEXT NOT NULL,
    commit_sha  TEXT NOT NULL,
    branch      TEXT NOT NULL,
    trigger     TEXT NOT NULL,
    state       TEXT NOT NULL,
    error       TEXT,
    created_at  BIGINT NOT NULL,
    started_at  BIGINT,
    finished_at BIGINT
, rerun_of BIGINT REFERENCES runs (id));
INSERT INTO "runs" VALUES(1,'shop','f8495e96b6340fd289c374b775eac279deb622f2','main','api','success',NULL,1796640709849,1796640709864,1796640715296,NULL);
INSERT INTO "runs" VALUES(2,'shop','8cd9e46aecaf67a158b88362be89b3b04b63d483','main','api','success',NULL,1796640719470,1796640719496,1796640732037,NULL);
CREATE TABLE secret_values (
    name        TEXT PRIMARY KEY,
    version     BIGINT NOT NULL,
    key_id      TEXT NOT NULL,
    nonce       TEXT NOT NULL,
    sealed      TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    updated_by  TEXT NOT NULL
);
CREATE TABLE secrets (
    name    TEXT PRIMARY KEY,
    source  TEXT NOT NULL
);
CREATE TABLE series_buckets (
    service TEXT NOT NULL,
    market TEXT NOT NULL,
    metric TEXT NOT NULL,
    -- seconds per bucket
    resolution INTEGER NOT NULL,
    -- Unix ms at the bucket's start
    bucket INTEGER NOT NULL,
    count INTEGER NOT NULL,
    sum REAL NOT NULL,
    min REAL NOT NULL,
    max REAL NOT NULL,
    last REAL NOT NULL,
    PRIMARY KEY (service, market, metric, resolution, bucket)
) WITHOUT ROWID;
INSERT INTO "series_buckets" VALUES('shop','at','errors',60,1796640660000,1,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','at','errors',60,1796640720000,24,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','at','errors',3600,1796637600000,25,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','at','p99-latency',60,1796640660000,1,0.00495,0.00495,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','at','p99-latency',60,1796640720000,24,1.18799999999999961186e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','at','p99-latency',3600,1796637600000,25,1.23749999999999957256e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','at','probe_latency_ms',60,1796640660000,2,1.08105610000000016411e+01,2.516455,8.29410600000000108877e+00,8.29410600000000108877e+00);
INSERT INTO "series_buckets" VALUES('shop','at','probe_latency_ms',60,1796640720000,24,1.58622741000000019081e+02,3.808217,22.351782,5.109913);
INSERT INTO "series_buckets" VALUES('shop','at','probe_latency_ms',3600,1796637600000,26,1.69433302000000026053e+02,2.516455,22.351782,5.109913);
INSERT INTO "series_buckets" VALUES('shop','at','up',60,1796640660000,2,2.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','at','up',60,1796640720000,24,24.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','at','up',3600,1796637600000,26,26.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','be','errors',60,1796640660000,1,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','be','errors',60,1796640720000,24,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','be','errors',3600,1796637600000,25,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','be','p99-latency',60,1796640660000,1,0.00495,0.00495,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','be','p99-latency',60,1796640720000,24,1.18799999999999961186e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','be','p99-latency',3600,1796637600000,25,1.23749999999999971134e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','be','probe_latency_ms',60,1796640660000,2,5.77713100000000068234e+00,2.449596,3.327535,2.449596);
INSERT INTO "series_buckets" VALUES('shop','be','probe_latency_ms',60,1796640720000,24,1.48601617999999973569e+02,1.930547,16.227267,5.388716);
INSERT INTO "series_buckets" VALUES('shop','be','probe_latency_ms',3600,1796637600000,26,1.54378748999999970692e+02,1.930547,16.227267,5.388716);
INSERT INTO "series_buckets" VALUES('shop','be','up',60,1796640660000,2,2.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','be','up',60,1796640720000,24,24.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','be','up',3600,1796637600000,26,26.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','ch','errors',60,1796640660000,1,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','ch','errors',60,1796640720000,24,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','ch','errors',3600,1796637600000,25,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','ch','p99-latency',60,1796640660000,1,0.00495,0.00495,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','ch','p99-latency',60,1796640720000,24,1.18799999999999961186e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','ch','p99-latency',3600,1796637600000,25,1.23749999999999943378e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','ch','probe_latency_ms',60,1796640660000,2,1.42814170000000011388e+01,1.316128,12.965289,12.965289);
INSERT INTO "series_buckets" VALUES('shop','ch','probe_latency_ms',60,1796640720000,24,141.514678,0.456776,11.972049,5.95157900000000061879e+00);
INSERT INTO "series_buckets" VALUES('shop','ch','probe_latency_ms',3600,1796637600000,26,1.55796094999999979791e+02,0.456776,12.965289,5.95157900000000061879e+00);
INSERT INTO "series_buckets" VALUES('shop','ch','up',60,1796640660000,2,2.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','ch','up',60,1796640720000,24,24.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','ch','up',3600,1796637600000,26,26.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','cy','errors',60,1796640720000,24,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','cy','errors',3600,1796637600000,24,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','cy','p99-latency',60,1796640720000,24,1.18799999999999975064e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','cy','p99-latency',3600,1796637600000,24,1.18799999999999975064e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','cy','probe_latency_ms',60,1796640660000,1,0.510756,0.510756,0.510756,0.510756);
INSERT INTO "series_buckets" VALUES('shop','cy','probe_latency_ms',60,1796640720000,24,138.690409,2.72192900000000026494e+00,1.31664769999999986538e+01,2.72192900000000026494e+00);
INSERT INTO "series_buckets" VALUES('shop','cy','probe_latency_ms',3600,1796637600000,25,1.39201164999999974728e+02,0.510756,1.31664769999999986538e+01,2.72192900000000026494e+00);
INSERT INTO "series_buckets" VALUES('shop','cy','up',60,1796640660000,1,1.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','cy','up',60,1796640720000,24,24.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','cy','up',3600,1796637600000,25,25.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','cz','errors',60,1796640720000,23,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','cz','errors',3600,1796637600000,23,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','cz','p99-latency',60,1796640720000,23,1.13849999999999965116e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','cz','p99-latency',3600,1796637600000,23,1.13849999999999965116e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','cz','probe_latency_ms',60,1796640720000,24,142.981307,2.852632,12.332092,2.852632);
INSERT INTO "series_buckets" VALUES('shop','cz','probe_latency_ms',3600,1796637600000,24,142.981307,2.852632,12.332092,2.852632);
INSERT INTO "series_buckets" VALUES('shop','cz','up',60,1796640720000,24,24.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','cz','up',3600,1796637600000,24,24.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','de','errors',60,1796640660000,1,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','de','errors',60,1796640720000,24,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','de','errors',3600,1796637600000,25,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','de','p99-latency',60,1796640660000,1,0.00495,0.00495,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','de','p99-latency',60,1796640720000,24,1.18799999999999975064e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','de','p99-latency',3600,1796637600000,25,1.23749999999999971134e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','de','probe_latency_ms',60,1796640660000,2,16.933292,2.005709,14.927583,14.927583);
INSERT INTO "series_buckets" VALUES('shop','de','probe_latency_ms',60,1796640720000,24,144.439035,1.027141,1.34143639999999990668e+01,3.265202);
INSERT INTO "series_buckets" VALUES('shop','de','probe_latency_ms',3600,1796637600000,26,161.372327,1.027141,14.927583,3.265202);
INSERT INTO "series_buckets" VALUES('shop','de','up',60,1796640660000,2,2.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','de','up',60,1796640720000,24,24.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','de','up',3600,1796637600000,26,26.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','dk','errors',60,1796640720000,24,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','dk','errors',3600,1796637600000,24,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','dk','p99-latency',60,1796640720000,24,1.18799999999999961186e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','dk','p99-latency',3600,1796637600000,24,1.18799999999999961186e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','dk','probe_latency_ms',60,1796640660000,1,5.984317,5.984317,5.984317,5.984317);
INSERT INTO "series_buckets" VALUES('shop','dk','probe_latency_ms',60,1796640720000,24,1.21149656999999990605e+02,0.948824,10.514212,4.11524);
INSERT INTO "series_buckets" VALUES('shop','dk','probe_latency_ms',3600,1796637600000,25,127.133974,0.948824,10.514212,4.11524);
INSERT INTO "series_buckets" VALUES('shop','dk','up',60,1796640660000,1,1.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','dk','up',60,1796640720000,24,24.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','dk','up',3600,1796637600000,25,25.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','ee','errors',60,1796640720000,23,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','ee','errors',3600,1796637600000,23,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','ee','p99-latency',60,1796640720000,23,1.13849999999999965116e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','ee','p99-latency',3600,1796637600000,23,1.13849999999999965116e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','ee','probe_latency_ms',60,1796640720000,24,1.26774869999999978626e+02,0.57403,13.274487,4.89447400000000065745e+00);
INSERT INTO "series_buckets" VALUES('shop','ee','probe_latency_ms',3600,1796637600000,24,1.26774869999999978626e+02,0.57403,13.274487,4.89447400000000065745e+00);
INSERT INTO "series_buckets" VALUES('shop','ee','up',60,1796640720000,24,24.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','ee','up',3600,1796637600000,24,24.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','es','errors',60,1796640720000,24,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','es','errors',3600,1796637600000,24,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','es','p99-latency',60,1796640720000,24,1.18799999999999961186e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','es','p99-latency',3600,1796637600000,24,1.18799999999999961186e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','es','probe_latency_ms',60,1796640660000,1,17.758483,17.758483,17.758483,17.758483);
INSERT INTO "series_buckets" VALUES('shop','es','probe_latency_ms',60,1796640720000,24,142.33852,0.684383,14.352352,5.655981);
INSERT INTO "series_buckets" VALUES('shop','es','probe_latency_ms',3600,1796637600000,25,1.6009700299999997242e+02,0.684383,17.758483,5.655981);
INSERT INTO "series_buckets" VALUES('shop','es','up',60,1796640660000,1,1.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','es','up',60,1796640720000,24,24.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','es','up',3600,1796637600000,25,25.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','fi','errors',60,1796640720000,24,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','fi','errors',3600,1796637600000,24,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','fi','p99-latency',60,1796640720000,24,1.18799999999999961186e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','fi','p99-latency',3600,1796637600000,24,1.18799999999999961186e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','fi','probe_latency_ms',60,1796640660000,1,5.307855,5.307855,5.307855,5.307855);
INSERT INTO "series_buckets" VALUES('shop','fi','probe_latency_ms',60,1796640720000,24,1.1598682600000000775e+02,9.24146999999999940733e-01,1.34114390000000014422e+01,4.272023);
INSERT INTO "series_buckets" VALUES('shop','fi','probe_latency_ms',3600,1796637600000,25,1.21294681000000011291e+02,9.24146999999999940733e-01,1.34114390000000014422e+01,4.272023);
INSERT INTO "series_buckets" VALUES('shop','fi','up',60,1796640660000,1,1.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','fi','up',60,1796640720000,24,24.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','fi','up',3600,1796637600000,25,25.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','fr','errors',60,1796640660000,2,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','fr','errors',60,1796640720000,23,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','fr','errors',3600,1796637600000,25,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','fr','p99-latency',60,1796640660000,2,0.0099,0.00495,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','fr','p99-latency',60,1796640720000,23,1.13849999999999965116e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','fr','p99-latency',3600,1796637600000,25,1.23749999999999957256e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','fr','probe_latency_ms',60,1796640660000,3,21.209702,1.782729,17.262099,17.262099);
INSERT INTO "series_buckets" VALUES('shop','fr','probe_latency_ms',60,1796640720000,24,144.435331,3.118655,12.336138,6.016485);
INSERT INTO "series_buckets" VALUES('shop','fr','probe_latency_ms',3600,1796637600000,27,1.65645032999999983758e+02,1.782729,17.262099,6.016485);
INSERT INTO "series_buckets" VALUES('shop','fr','up',60,1796640660000,3,3.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','fr','up',60,1796640720000,24,24.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','fr','up',3600,1796637600000,27,27.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','gb','errors',60,1796640720000,24,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','gb','errors',3600,1796637600000,24,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','gb','p99-latency',60,1796640720000,24,1.18799999999999961186e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','gb','p99-latency',3600,1796637600000,24,1.18799999999999961186e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','gb','probe_latency_ms',60,1796640660000,1,6.13444,6.13444,6.13444,6.13444);
INSERT INTO "series_buckets" VALUES('shop','gb','probe_latency_ms',60,1796640720000,24,107.605375,0.733265,14.427354,2.62172000000000027242e+00);
INSERT INTO "series_buckets" VALUES('shop','gb','probe_latency_ms',3600,1796637600000,25,113.739815,0.733265,14.427354,2.62172000000000027242e+00);
INSERT INTO "series_buckets" VALUES('shop','gb','up',60,1796640660000,1,1.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','gb','up',60,1796640720000,24,24.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','gb','up',3600,1796637600000,25,25.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','gr','errors',60,1796640720000,24,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','gr','errors',3600,1796637600000,24,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','gr','p99-latency',60,1796640720000,24,1.18799999999999975064e-01,0.00495,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','gr','p99-latency',3600,1796637600000,24,1.18799999999999975064e-01,0.00495,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','gr','probe_latency_ms',60,1796640660000,1,33.643344,33.643344,33.643344,33.643344);
INSERT INTO "series_buckets" VALUES('shop','gr','probe_latency_ms',60,1796640720000,24,119.468876,0.955274,8.398,2.78833700000000028751e+00);
INSERT INTO "series_buckets" VALUES('shop','gr','probe_latency_ms',3600,1796637600000,25,153.11222,0.955274,33.643344,2.78833700000000028751e+00);
INSERT INTO "series_buckets" VALUES('shop','gr','up',60,1796640660000,1,1.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','gr','up',60,1796640720000,24,24.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','gr','up',3600,1796637600000,25,25.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','hu','errors',60,1796640720000,24,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','hu','errors',3600,1796637600000,24,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','hu','p99-latency',60,1796640720000,24,1.18799999999999961186e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','hu','p99-latency',3600,1796637600000,24,1.18799999999999961186e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','hu','probe_latency_ms',60,1796640660000,1,6.996606,6.996606,6.996606,6.996606);
INSERT INTO "series_buckets" VALUES('shop','hu','probe_latency_ms',60,1796640720000,24,105.74028,0.47962,10.938609,4.02735);
INSERT INTO "series_buckets" VALUES('shop','hu','probe_latency_ms',3600,1796637600000,25,112.736886,0.47962,10.938609,4.02735);
INSERT INTO "series_buckets" VALUES('shop','hu','up',60,1796640660000,1,1.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','hu','up',60,1796640720000,24,24.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','hu','up',3600,1796637600000,25,25.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','ie','errors',60,1796640720000,24,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','ie','errors',3600,1796637600000,24,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','ie','p99-latency',60,1796640720000,24,1.18799999999999975064e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','ie','p99-latency',3600,1796637600000,24,1.18799999999999975064e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','ie','probe_latency_ms',60,1796640660000,1,6.32409,6.32409,6.32409,6.32409);
INSERT INTO "series_buckets" VALUES('shop','ie','probe_latency_ms',60,1796640720000,24,1.17866937000000007176e+02,1.380142,11.451459,2.660638);
INSERT INTO "series_buckets" VALUES('shop','ie','probe_latency_ms',3600,1796637600000,25,124.191027,1.380142,11.451459,2.660638);
INSERT INTO "series_buckets" VALUES('shop','ie','up',60,1796640660000,1,1.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','ie','up',60,1796640720000,24,24.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','ie','up',3600,1796637600000,25,25.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','it','errors',60,1796640720000,24,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','it','errors',3600,1796637600000,24,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','it','p99-latency',60,1796640720000,24,1.18799999999999975064e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','it','p99-latency',3600,1796637600000,24,1.18799999999999975064e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','it','probe_latency_ms',60,1796640660000,1,1.306053,1.306053,1.306053,1.306053);
INSERT INTO "series_buckets" VALUES('shop','it','probe_latency_ms',60,1796640720000,24,134.212112,0.570735,2.05719569999999976053e+01,2.90524);
INSERT INTO "series_buckets" VALUES('shop','it','probe_latency_ms',3600,1796637600000,25,1.35518164999999982003e+02,0.570735,2.05719569999999976053e+01,2.90524);
INSERT INTO "series_buckets" VALUES('shop','it','up',60,1796640660000,1,1.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','it','up',60,1796640720000,24,24.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','it','up',3600,1796637600000,25,25.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','lt','errors',60,1796640720000,24,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','lt','errors',3600,1796637600000,24,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','lt','p99-latency',60,1796640720000,24,1.18799999999999961186e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','lt','p99-latency',3600,1796637600000,24,1.18799999999999961186e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','lt','probe_latency_ms',60,1796640660000,1,6.439661,6.439661,6.439661,6.439661);
INSERT INTO "series_buckets" VALUES('shop','lt','probe_latency_ms',60,1796640720000,24,109.322953,4.70856999999999970007e-01,15.086829,2.982324);
INSERT INTO "series_buckets" VALUES('shop','lt','probe_latency_ms',3600,1796637600000,25,115.762614,4.70856999999999970007e-01,15.086829,2.982324);
INSERT INTO "series_buckets" VALUES('shop','lt','up',60,1796640660000,1,1.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','lt','up',60,1796640720000,24,24.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','lt','up',3600,1796637600000,25,25.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','lu','errors',60,1796640660000,1,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','lu','errors',60,1796640720000,24,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','lu','errors',3600,1796637600000,25,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','lu','p99-latency',60,1796640660000,1,0.00495,0.00495,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','lu','p99-latency',60,1796640720000,24,1.18799999999999975064e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','lu','p99-latency',3600,1796637600000,25,1.23749999999999971134e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','lu','probe_latency_ms',60,1796640660000,2,3.552778,1.32420999999999988716e+00,2.228568,1.32420999999999988716e+00);
INSERT INTO "series_buckets" VALUES('shop','lu','probe_latency_ms',60,1796640720000,24,144.543273,0.521351,15.187308,3.98829300000000053216e+00);
INSERT INTO "series_buckets" VALUES('shop','lu','probe_latency_ms',3600,1796637600000,26,1.48096051000000016985e+02,0.521351,15.187308,3.98829300000000053216e+00);
INSERT INTO "series_buckets" VALUES('shop','lu','up',60,1796640660000,2,2.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','lu','up',60,1796640720000,24,24.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','lu','up',3600,1796637600000,26,26.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','lv','errors',60,1796640720000,23,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','lv','errors',3600,1796637600000,23,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','lv','p99-latency',60,1796640720000,23,1.13849999999999965116e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','lv','p99-latency',3600,1796637600000,23,1.13849999999999965116e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','lv','probe_latency_ms',60,1796640720000,24,133.453509,0.54665,25.268939,0.54665);
INSERT INTO "series_buckets" VALUES('shop','lv','probe_latency_ms',3600,1796637600000,24,133.453509,0.54665,25.268939,0.54665);
INSERT INTO "series_buckets" VALUES('shop','lv','up',60,1796640720000,24,24.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','lv','up',3600,1796637600000,24,24.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','mt','errors',60,1796640720000,24,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','mt','errors',3600,1796637600000,24,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','mt','p99-latency',60,1796640720000,24,1.18799999999999947308e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','mt','p99-latency',3600,1796637600000,24,1.18799999999999947308e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','mt','probe_latency_ms',60,1796640660000,1,0.711533,0.711533,0.711533,0.711533);
INSERT INTO "series_buckets" VALUES('shop','mt','probe_latency_ms',60,1796640720000,24,118.758485,0.404359,14.500491,3.383938);
INSERT INTO "series_buckets" VALUES('shop','mt','probe_latency_ms',3600,1796637600000,25,119.470018,0.404359,14.500491,3.383938);
INSERT INTO "series_buckets" VALUES('shop','mt','up',60,1796640660000,1,1.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','mt','up',60,1796640720000,24,24.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','mt','up',3600,1796637600000,25,25.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','nl','errors',60,1796640660000,1,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','nl','errors',60,1796640720000,23,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','nl','errors',3600,1796637600000,24,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','nl','p99-latency',60,1796640660000,1,0.00495,0.00495,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','nl','p99-latency',60,1796640720000,23,1.13849999999999978994e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','nl','p99-latency',3600,1796637600000,24,1.18799999999999975064e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','nl','probe_latency_ms',60,1796640660000,2,3.94001099999999970791e+00,0.301246,3.638765,0.301246);
INSERT INTO "series_buckets" VALUES('shop','nl','probe_latency_ms',60,1796640720000,24,117.529522,0.348055,15.035543,2.94093300000000024141e+00);
INSERT INTO "series_buckets" VALUES('shop','nl','probe_latency_ms',3600,1796637600000,26,121.469533,0.301246,15.035543,2.94093300000000024141e+00);
INSERT INTO "series_buckets" VALUES('shop','nl','up',60,1796640660000,2,2.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','nl','up',60,1796640720000,24,24.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','nl','up',3600,1796637600000,26,26.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','pl','errors',60,1796640720000,21,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','pl','errors',3600,1796637600000,21,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','pl','p99-latency',60,1796640720000,21,1.03949999999999972977e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','pl','p99-latency',3600,1796637600000,21,1.03949999999999972977e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','pl','probe_latency_ms',60,1796640660000,1,0.673567,0.673567,0.673567,0.673567);
INSERT INTO "series_buckets" VALUES('shop','pl','probe_latency_ms',60,1796640720000,21,8.1155856999999969048e+01,0.421794,10.293766,4.091816);
INSERT INTO "series_buckets" VALUES('shop','pl','probe_latency_ms',3600,1796637600000,22,8.18294239999999746277e+01,0.421794,10.293766,4.091816);
INSERT INTO "series_buckets" VALUES('shop','pl','up',60,1796640660000,1,1.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','pl','up',60,1796640720000,24,21.0,0.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','pl','up',3600,1796637600000,25,22.0,0.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','pt','errors',60,1796640720000,24,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','pt','errors',3600,1796637600000,24,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','pt','p99-latency',60,1796640720000,24,1.18799999999999961186e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','pt','p99-latency',3600,1796637600000,24,1.18799999999999961186e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','pt','probe_latency_ms',60,1796640660000,1,2.103693,2.103693,2.103693,2.103693);
INSERT INTO "series_buckets" VALUES('shop','pt','probe_latency_ms',60,1796640720000,24,168.30515,0.710251,24.366203,4.157424);
INSERT INTO "series_buckets" VALUES('shop','pt','probe_latency_ms',3600,1796637600000,25,1.70408843000000018719e+02,0.710251,24.366203,4.157424);
INSERT INTO "series_buckets" VALUES('shop','pt','up',60,1796640660000,1,1.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','pt','up',60,1796640720000,24,24.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','pt','up',3600,1796637600000,25,25.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','se','errors',60,1796640720000,24,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','se','errors',3600,1796637600000,24,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','se','p99-latency',60,1796640720000,24,1.18799999999999961186e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','se','p99-latency',3600,1796637600000,24,1.18799999999999961186e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','se','probe_latency_ms',60,1796640660000,1,8.997997,8.997997,8.997997,8.997997);
INSERT INTO "series_buckets" VALUES('shop','se','probe_latency_ms',60,1796640720000,24,1.05535987000000019975e+02,0.254216,11.170193,3.73211399999999970944e+00);
INSERT INTO "series_buckets" VALUES('shop','se','probe_latency_ms',3600,1796637600000,25,1.14533984000000017995e+02,0.254216,11.170193,3.73211399999999970944e+00);
INSERT INTO "series_buckets" VALUES('shop','se','up',60,1796640660000,1,1.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','se','up',60,1796640720000,24,24.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','se','up',3600,1796637600000,25,25.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','sk','errors',60,1796640720000,23,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','sk','errors',3600,1796637600000,23,0.0,0.0,0.0,0.0);
INSERT INTO "series_buckets" VALUES('shop','sk','p99-latency',60,1796640720000,23,1.13849999999999965116e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','sk','p99-latency',3600,1796637600000,23,1.13849999999999965116e-01,4.94999999999999953925e-03,0.00495,0.00495);
INSERT INTO "series_buckets" VALUES('shop','sk','probe_latency_ms',60,1796640720000,24,1.47393561000000033805e+02,0.29741,16.820134,3.09477);
INSERT INTO "series_buckets" VALUES('shop','sk','probe_latency_ms',3600,1796637600000,24,1.47393561000000033805e+02,0.29741,16.820134,3.09477);
INSERT INTO "series_buckets" VALUES('shop','sk','up',60,1796640720000,24,24.0,1.0,1.0,1.0);
INSERT INTO "series_buckets" VALUES('shop','sk','up',3600,1796637600000,24,24.0,1.0,1.0,1.0);
CREATE TABLE services (
    name      TEXT PRIMARY KEY,
    repo      TEXT NOT NULL,
    branch    TEXT NOT NULL,
    config    TEXT NOT NULL
, triggers TEXT NOT NULL DEFAULT '{}');
INSERT INTO "services" VALUES('shop','/tmp/demo-fixture/repos/shop','main','{"defaults":{"free_shipping_threshold":50,"payment_methods":["card","paypal"],"vat_rate":0.2},"regions":{"east":{"free_shipping_threshold":40},"north":{"payment_methods":["card","paypal","klarna"]}},"markets":{"be":{"payment_methods":["card","bancontact","paypal"],"vat_rate":0.21},"ch":{"free_shipping_threshold":60,"payment_methods":["card","twint"],"vat_rate":0.081},"cy":{"vat_rate":0.19},"cz":{"free_shipping_threshold":1000,"vat_rate":0.21},"de":{"payment_methods":["card","paypal","sofort"],"vat_rate":0.19},"dk":{"free_shipping_threshold":400,"payment_methods":["card","mobilepay"],"vat_rate":0.25},"ee":{"vat_rate":0.22},"es":{"payment_methods":["card","bizum","paypal"],"vat_rate":0.21},"fi":{"vat_rate":0.255},"gr":{"vat_rate":0.24},"hu":{"free_shipping_threshold":15000,"vat_rate":0.27},"ie":{"vat_rate":0.23},"it":{"vat_rate":0.22},"lt":{"vat_rate":0.21},"lu":{"vat_rate":0.17},"lv":{"vat_rate":0.21},"mt":{"vat_rate":0.18},"nl":{"payment_methods":["ideal","card","paypal"],"vat_rate":0.21},"pl":{"free_shipping_threshold":200,"payment_methods":["blik","card","przelewy24"],"vat_rate":0.23},"pt":{"payment_methods":["card","mbway"],"vat_rate":0.23},"se":{"free_shipping_threshold":500,"payment_methods":["card","swish","klarna"],"vat_rate":0.25},"sk":{"vat_rate":0.23}}}','{"webhook_secret":null,"poll":null,"schedules":[]}');
CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY,
    hash         TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL,
    source       TEXT NOT NULL,
    token_id     BIGINT REFERENCES tokens (id),
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    revoked_at   BIGINT
);
CREATE TABLE steps (
    id          INTEGER PRIMARY KEY,
    job_id      BIGINT NOT NULL REFERENCES jobs (id),
    position    BIGINT NOT NULL,
    name        TEXT NOT NULL,
    command     TEXT NOT NULL,
    state       TEXT NOT NULL,
    exit_code   BIGINT,
    started_at  BIGINT,
    finished_at BIGINT
);
INSERT INTO "steps" VALUES(1,1,0,'cargo test --offline --quiet','cargo test --offline --quiet','success',0,1796640709967,1796640711780);
INSERT INTO "steps" VALUES(2,2,0,'cargo build --offline --release --quiet','cargo build --offline --release --quiet','success',0,1796640711867,1796640715144);
INSERT INTO "steps" VALUES(3,3,0,'cargo test --offline --quiet','cargo test --offline --quiet','success',0,1796640719668,1796640724988);
INSERT INTO "steps" VALUES(4,4,0,'cargo build --offline --release --quiet','cargo build --offline --release --quiet','success',0,1796640725195,1796640731685);
CREATE TABLE tokens (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL,
    hash        TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL,
    last_used_at BIGINT
, expires_at BIGINT, revoked_at BIGINT);
INSERT INTO "tokens" VALUES(1,'admin','admin','a9bfaa3ddcc275529db2a4267b9313dec730834b0ccfcf5d80abad083d0e7f5a',1796640709544,1796640709715,NULL,NULL);
INSERT INTO "tokens" VALUES(2,'olga (ops)','operator','12fefd2f325b36d18caf19c59dd11ad49b02d378e6fdeed3505de74a52d93a94',1796640709717,1796640716128,NULL,NULL);
INSERT INTO "tokens" VALUES(3,'dana (dev)','developer','d444c59a35afcb57c02f0de9d997646b8ed8b92df8d6d7c25d258c605936c2f2',1796640709778,1796640733099,NULL,NULL);
CREATE TABLE waves (
    name      TEXT PRIMARY KEY,
    position  BIGINT NOT NULL,
    markets   TEXT NOT NULL
);
INSERT INTO "waves" VALUES('pilot',0,'["fr"]');
INSERT INTO "waves" VALUES('benelux',1,'["be","nl","lu"]');
INSERT INTO "waves" VALUES('dach',2,'["de","at","ch"]');
INSERT INTO "waves" VALUES('south',3,'["it","es","pt","gr","mt","cy"]');
INSERT INTO "waves" VALUES('north-east',4,'["ie","gb","se","dk","fi","ee","lv","lt","pl","cz","sk","hu"]');
CREATE INDEX commit_ideas_by_idea ON commit_ideas (idea_key);
CREATE INDEX runs_by_service ON runs (service, id);
CREATE INDEX deployments_by_market ON deployments (service, market, id);
CREATE UNIQUE INDEX rollout_decisions_once ON rollout_decisions (rollout_id, kind, wave, market);
CREATE INDEX gate_results_by_deployment ON gate_results (deployment_id, id);
CREATE INDEX market_configs_by_market ON market_configs (service, market, id);
CREATE INDEX incidents_by_fingerprint ON incidents (fingerprint);
CREATE INDEX series_buckets_by_age ON series_buckets (resolution, bucket);
CREATE INDEX deployments_by_state_alone ON deployments (state);
CREATE INDEX deployments_by_state ON deployments (service, market, state, id);
CREATE INDEX incidents_open ON incidents (id) WHERE state = 'open';
CREATE INDEX events_by_subject ON events (subject, at);
CREATE UNIQUE INDEX deliveries_claim ON deliveries (service, commit_sha)
    WHERE outcome IN ('received', 'queued');
CREATE INDEX market_processes_by_market ON market_processes (service, market);
CREATE INDEX sessions_by_token ON sessions (token_id);
CREATE INDEX events_by_actor ON events (actor, id);
CREATE INDEX events_by_kind ON events (kind, id);
CREATE INDEX jobs_offered ON jobs (offered_at) WHERE agent_id IS NULL AND offered_at IS NOT NULL;
CREATE INDEX agent_tasks_pending ON agent_tasks (created_at) WHERE state = 'pending';
CREATE INDEX flag_emergencies_in_force ON flag_emergencies (flag) WHERE lifted_at IS NULL;
CREATE TRIGGER market_launching AFTER UPDATE OF state ON deployments
WHEN NEW.state = 'live'
BEGIN
    INSERT INTO events (at, kind, subject, data)
    SELECT CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER), 'market.launching', 'market/' || NEW.market,
           json_object('market', NEW.market, 'service', NEW.service, 'deployment', NEW.id, 'release', NEW.release_id)
    WHERE EXISTS (SELECT 1 FROM markets WHERE id = NEW.market AND state = 'planned');
    UPDATE markets SET state = 'launching' WHERE id = NEW.market AND state = 'planned';
END;
CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
WHEN OLD.hash IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: events rows cannot be changed');
END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
WHEN OLD.hash IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: events rows cannot be deleted');
END;
COMMIT;