import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ActorsModule } from 'src/actors/actors.module';
import { ClientEntity } from 'src/clients/client.entity';
import { ClientsResolver } from 'src/clients/clients.resolver';
import { ClientsService } from 'src/clients/clients.service';
import { IssuersModule } from 'src/issuers/issuers.module';
import { ProjectsModule } from 'src/projects/projects.module';
import { RevocationModule } from 'src/revocation/revocation.module';

@Module({
  exports: [ClientsService],
  imports: [
    ActorsModule,
    IssuersModule,
    ProjectsModule,
    RevocationModule,
    TypeOrmModule.forFeature([ClientEntity]),
  ],
  providers: [ClientsResolver, ClientsService],
})
export class ClientsModule {}
