// The sample deployment. Names and file formats follow docs of OB 1.5 (see
// shared/reference/wso2-ob-1.5-layout.md); contents are generated, not real products.
#include "deploy/sample_deployment.hpp"

#include <filesystem>
#include <fstream>
#include <random>

#include "util/error.hpp"

namespace obkeep::deploy {

namespace fs = std::filesystem;

namespace {

void write_file(const fs::path& path, const std::string& content, fs::perms mode = fs::perms(0644)) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) throw Error("cannot write " + path.string());
  out.close();
  fs::permissions(path, mode);
}

std::string random_content(std::mt19937_64& random, size_t size) {
  std::string data(size, '\0');
  for (size_t i = 0; i < size; i += 8) {
    uint64_t value = random();
    for (size_t k = 0; k < 8 && i + k < size; ++k) data[i + k] = static_cast<char>(value >> (8 * k));
  }
  return data;
}

// An H2 1.3 PageStore file: three 16-byte copies of "-- H2 0.5/B --" (space padded,
// ending in a newline), then pages.
std::string h2_page_store(std::mt19937_64& random, size_t pages) {
  std::string line = "-- H2 0.5/B -- ";
  line.resize(15, ' ');
  line += '\n';
  std::string header = line + line + line;
  header.resize(2048, '\0');
  return header + random_content(random, pages * 2048);
}

std::string datasource(const std::string& name, const std::string& jndi, const std::string& url) {
  return "        <datasource>\n"
         "            <name>" + name + "</name>\n"
         "            <description>The datasource used for " + name + "</description>\n"
         "            <jndiConfig>\n                <name>" + jndi + "</name>\n            </jndiConfig>\n"
         "            <definition type=\"RDBMS\">\n                <configuration>\n"
         "                    <url>" + url + "</url>\n"
         "                    <username>wso2carbon</username>\n"
         "                    <password>wso2carbon</password>\n"
         "                    <driverClassName>org.h2.Driver</driverClassName>\n"
         "                    <maxActive>50</maxActive>\n                    <maxWait>60000</maxWait>\n"
         "                    <testOnBorrow>true</testOnBorrow>\n"
         "                    <validationQuery>SELECT 1</validationQuery>\n"
         "                    <validationInterval>30000</validationInterval>\n"
         "                    <defaultAutoCommit>true</defaultAutoCommit>\n"
         "                </configuration>\n            </definition>\n        </datasource>\n";
}

std::string datasources_file(const std::string& body) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         "<datasources-configuration xmlns:svns=\"http://org.wso2.securevault/configuration\">\n"
         "    <providers>\n        <provider>org.wso2.carbon.ndatasource.rdbms.RDBMSDataSourceReader</provider>\n"
         "    </providers>\n    <datasources>\n" + body + "    </datasources>\n</datasources-configuration>\n";
}

std::string h2_url(const std::string& file, const std::string& extra = "") {
  return "jdbc:h2:repository/database/" + file + ";DB_CLOSE_ON_EXIT=FALSE" + extra;
}

void write_home(const fs::path& home, bool key_manager, std::mt19937_64& shared_random, std::mt19937_64& random) {
  const char* product = key_manager ? "WSO2 Identity Server" : "WSO2 API Manager";
  const char* version = key_manager ? "5.7.0" : "2.6.0";
  write_file(home / "bin/wso2server.sh", "#!/bin/sh\n# Carbon server launcher\nexec java -Dcarbon.home=\"$(dirname \"$0\")/..\" org.wso2.carbon.bootstrap.Bootstrap \"$@\"\n", fs::perms(0755));
  write_file(home / "bin/ciphertool.sh", "#!/bin/sh\n# Secure Vault cipher tool\n", fs::perms(0755));
  fs::path conf = home / "repository/conf";
  write_file(conf / "carbon.xml", std::string("<Server xmlns=\"http://wso2.org/projects/carbon/carbon.xml\">\n    <Name>") +
                                      product + "</Name>\n    <ServerKey>" + (key_manager ? "IS" : "AM") +
                                      "</ServerKey>\n    <Version>" + version + "</Version>\n    <Ports>\n        <Offset>" +
                                      (key_manager ? "3" : "0") + "</Offset>\n    </Ports>\n</Server>\n");
  std::string master = datasource("WSO2_CARBON_DB", "jdbc/WSO2CarbonDB", h2_url("WSO2CARBON_DB"));
  master += datasource("WSO2AM_DB", "jdbc/WSO2AM_DB", h2_url("WSO2AM_DB"));
  master += datasource("WSO2UM_DB", "jdbc/WSO2UM_DB", h2_url("WSO2UM_DB"));
  master += datasource("WSO2REG_DB", "jdbc/WSO2REG_DB", h2_url("WSO2REG_DB"));
  master += datasource("WSO2CONFIG_DB", "jdbc/WSO2Config_DB", h2_url(key_manager ? "WSO2Config_DB" : "WSO2_AM_CONFIG_DB"));
  if (!key_manager) {
    master += datasource("WSO2AM_STATS_DB", "jdbc/WSO2AM_STATS_DB", h2_url("WSO2_APIMGT_STAT_DB"));
    master += datasource("WSO2_MB_STORE_DB", "WSO2MBStoreDB", h2_url("WSO2MB_DB", ";LOCK_TIMEOUT=60000"));
  }
  write_file(conf / "datasources/master-datasources.xml", datasources_file(master));
  write_file(conf / "datasources/open-banking-datasources.xml",
             datasources_file(datasource("WSO2_OPEN_BANKING_DB", "jdbc/WSO2OpenBankingDB",
                                         h2_url("WSO2_OPEN_BANKING_STORE_DB"))));
  write_file(conf / "datasources/metrics-datasources.xml",
             datasources_file(datasource("WSO2_METRICS_DB", "jdbc/WSO2MetricsDB",
                                         h2_url("WSO2METRICS_DB", ";AUTO_SERVER=TRUE"))));
  if (key_manager)
    write_file(conf / "datasources/bps-datasources.xml",
               datasources_file(datasource("BPS_DS", "bpsds",
                                           "jdbc:h2:file:repository/database/jpadb;DB_CLOSE_ON_EXIT=FALSE;MVCC=TRUE")));
  write_file(conf / "security/cipher-text.properties",
             "Carbon.Security.KeyStore.Password=[wso2carbon]\nCarbon.Security.KeyStore.KeyPassword=[wso2carbon]\n");
  write_file(conf / "security/cipher-tool.properties",
             "Datasources.WSO2_CARBON_DB.Configuration.Password=repository/conf/datasources/master-datasources.xml//"
             "datasources-configuration/datasources/datasource[name='WSO2_CARBON_DB']/definition[@type='RDBMS']/"
             "configuration/password,false\n");
  write_file(conf / "finance/open-banking.xml", "<Server xmlns=\"http://wso2.org/projects/carbon/open-banking.xml\">\n    <DataPublishing><Enabled>false</Enabled></DataPublishing>\n</Server>\n");
  write_file(conf / "log4j.properties", "log4j.rootLogger=INFO, CARBON_CONSOLE, CARBON_LOGFILE\n");
  fs::path database = home / "repository/database";
  for (const char* name : {"WSO2CARBON_DB", "WSO2AM_DB", "WSO2UM_DB", "WSO2REG_DB", "WSO2_OPEN_BANKING_STORE_DB",
                           "WSO2METRICS_DB"})
    write_file(database / (std::string(name) + ".h2.db"), h2_page_store(random, 64 + random() % 64));
  write_file(database / (key_manager ? "WSO2Config_DB.h2.db" : "WSO2_AM_CONFIG_DB.h2.db"), h2_page_store(random, 32));
  if (key_manager) write_file(database / "jpadb.h2.db", h2_page_store(random, 32));
  if (!key_manager) {
    write_file(database / "WSO2_APIMGT_STAT_DB.h2.db", h2_page_store(random, 32));
    write_file(database / "WSO2MB_DB.h2.db", h2_page_store(random, 32));
  }
  // OSGi bundles: the first half identical on both nodes (same base kernel).
  for (int i = 0; i < 40; ++i) {
    bool shared = i < 20;
    std::string name = "org.wso2.carbon." + std::string(shared ? "core" : (key_manager ? "identity" : "apimgt")) +
                       ".bundle" + std::to_string(i) + "_4.4.35.jar";
    size_t size = 20000 + (shared ? shared_random() : random()) % 150000;
    write_file(home / "repository/components/plugins" / name, random_content(shared ? shared_random : random, size));
  }
  write_file(home / "repository/components/plugins/h2-database-engine_1.3.175.wso2v1.jar", random_content(shared_random, 60000));
  fs::path server = home / "repository/deployment/server";
  const char* webapps[] = {key_manager ? "oauth2.war" : "api#am#publisher#v0.14.war",
                           "authenticationendpoint.war", key_manager ? "api#identity#consent-mgt#v1.0.war" : "throttle#data#v1.war"};
  for (const char* war : webapps) write_file(server / "webapps" / war, random_content(random, 400000 + random() % 400000));
  if (!key_manager) {
    for (const char* api : {"_TokenAPI_.xml", "_AuthorizeAPI_.xml", "_RevokeAPI_.xml", "admin--AccountsInfoAPI_v3.1.xml"})
      write_file(server / "synapse-configs/default/api" / api,
                 std::string("<api xmlns=\"http://ws.apache.org/ns/synapse\" name=\"") + api + "\" context=\"/open-banking/v3.1/aisp\">\n"
                 "    <resource methods=\"GET\" uri-template=\"/accounts\"><inSequence><send/></inSequence></resource>\n</api>\n");
    for (const char* sequence : {"main.xml", "fault.xml", "_cors_request_handler_.xml"})
      write_file(server / "synapse-configs/default/sequences" / sequence,
                 "<sequence xmlns=\"http://ws.apache.org/ns/synapse\" name=\"x\"><log level=\"full\"/></sequence>\n");
    write_file(server / "executionplans/global_FreqPerDay.siddhiql", "@Plan:name('global_FreqPerDay')\n");
    write_file(home / "repository/tenants/1/synapse-configs/default/api/tenant--API_v1.xml", "<api name=\"tenant\"/>\n");
  }
  const char* apps[] = {key_manager ? "consentmgt" : "store", key_manager ? "ccportal" : "publisher"};
  for (const char* app : apps)
    for (int i = 0; i < 30; ++i)
      write_file(server / "jaggeryapps" / app / "js" / ("module" + std::to_string(i) + ".js"),
                 "function handler" + std::to_string(i) + "(request) {\n  return request.consent && request.account;\n}\n");
  write_file(home / "repository/resources/security/wso2carbon.jks", random_content(shared_random, 5000));
  write_file(home / "repository/resources/security/client-truststore.jks", random_content(shared_random, 90000));
  std::string log;
  for (int i = 0; i < 4000; ++i)
    log += "TID: [-1234] [] [2026-11-24 10:" + std::to_string(i % 60) + ":00,000]  INFO {org.wso2.carbon.core.init.CarbonServerManager} -  Started " + std::to_string(i) + "\n";
  write_file(home / "repository/logs/wso2carbon.log", log);
}

}  // namespace

void write_sample_deployment(const std::string& root) {
  std::mt19937_64 shared_random(1505), key_manager_random(1), api_manager_random(2);
  write_home(fs::path(root) / "wso2-obkm-1.5.0", true, shared_random, key_manager_random);
  std::mt19937_64 shared_again(1505);  // the same shared bundles on the second node
  write_home(fs::path(root) / "wso2-obam-1.5.0", false, shared_again, api_manager_random);
}

}  // namespace obkeep::deploy
